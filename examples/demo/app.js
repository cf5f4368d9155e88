// The demo page's script: the openai SDK and @inferencesh/sdk pointed at keyward, and a
// realtime WebSocket to it. No key is anywhere on this page; keyward adds it on the way out. The
// page has no accounts: the openai route takes a visitor token, which visitor.js (served by
// keyward) earns with a second of proof of work in Web Workers, renews, and adds to every request
// the SDK makes (and the socket offers it as a subprotocol).
// (sdk.js is the demo's bundle of the openai and @inferencesh/sdk packages, made at start.)
const { inference, OpenAI } = await import(new URL("/sdk.js", location.href).href);

const config = JSON.parse(document.getElementById("config").textContent);
const G = config.gateway;
const $ = (id) => document.getElementById(id);
const { visitorFetch, visitorToken } = await import(`${G}/keyward/visitor.js`);

$("mode").textContent = config.standIns.length
  ? `No key set for ${config.standIns.join(" and ")}: keyward talks to a local stand-in provider.`
  : "Keys are set: keyward talks to the real providers.";
$("status-link").href = `${G}/keyward/status`;

// maxRetries 0: show a 429 at once instead of waiting out Retry-After in the SDK.
// fetch: visitorFetch sends the visitor token (the apiKey is replaced on every request).
const openai = new OpenAI({
  baseURL: `${G}/openai/v1`,
  apiKey: "visitor",
  fetch: visitorFetch,
  dangerouslyAllowBrowser: true,
  maxRetries: 0,
});
const tasks = inference({
  proxyUrl: `${G}/api/inference/proxy`,
  ...(config.inferenceBase ? { baseUrl: config.inferenceBase } : {}),
});

const header = (headers, name) =>
  headers ? (typeof headers.get === "function" ? headers.get(name) : headers[name]) : null;

/** Shows the request id and what remains of the rate limit, from a response's headers. */
function showMeta(headers) {
  $("request-id").textContent = header(headers, "x-request-id") ?? "-";
  const limit = header(headers, "ratelimit-limit");
  const remaining = header(headers, "ratelimit-remaining");
  const reset = header(headers, "ratelimit-reset");
  if (limit !== null && remaining !== null) {
    $("remaining").textContent = `${remaining} of ${limit} requests left, resets in ${reset} s`;
  }
}

/** A sentence a person can read, for any error an SDK throws. */
function describe(error) {
  const status = error.status ?? error.statusCode;
  const message = error.error?.message ?? parsedMessage(error.responseBody) ?? error.message;
  if (status === 429) {
    const retry = header(error.headers, "retry-after");
    return `Rate limit reached: ${message}.${retry ? ` Try again in ${retry} s.` : ""}`;
  }
  if (status) return `keyward answered ${status}: ${message}`;
  return `Cannot reach keyward at ${G}: ${error.message}`;
}

function parsedMessage(body) {
  try {
    return JSON.parse(body).error?.message;
  } catch {
    return undefined;
  }
}

function showError(id, error) {
  $(id).textContent = describe(error);
  $(id).hidden = false;
}

async function chat(prompt) {
  $("answer").textContent = "";
  $("chat-error").hidden = true;
  try {
    const { data: stream, response } = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: prompt }],
    }).withResponse();
    showMeta(response.headers);
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) $("answer").textContent += delta;
    }
  } catch (error) {
    if (error.headers) showMeta(error.headers);
    showError("chat-error", error);
  }
}

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  chat($("prompt").value);
});

// Spends the route's limit (10 a minute) to show what a page sees when it hits: up to 25
// requests, enough to hit it even when a new minute starts halfway.
$("burst").addEventListener("click", async () => {
  $("chat-error").hidden = true;
  for (let i = 0; i < 25; i++) {
    try {
      const { response } = await openai.chat.completions.create({
        model: "gpt-4o-mini",
        max_tokens: 1,
        messages: [{ role: "user", content: `ping ${i}` }],
      }).withResponse();
      showMeta(response.headers);
    } catch (error) {
      if (error.headers) showMeta(error.headers);
      showError("chat-error", error);
      break;
    }
  }
});

const STATUS = [
  "unknown",
  "received",
  "queued",
  "dispatched",
  "preparing",
  "serving",
  "setting up",
  "running",
  "cancelling",
  "uploading",
  "completed",
  "failed",
  "cancelled",
];

$("run-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("updates").replaceChildren();
  $("output").textContent = "";
  $("run-error").hidden = true;
  try {
    const task = await tasks.run(
      { app: $("app").value, input: { prompt: $("app-prompt").value } },
      {
        onUpdate: (update) => {
          $("task-id").textContent = update.id ?? "-";
          const li = document.createElement("li");
          li.textContent = STATUS[update.status] ?? String(update.status);
          $("updates").append(li);
        },
      },
    );
    const output = task.output;
    $("output").textContent = typeof output?.text === "string"
      ? output.text
      : JSON.stringify(output, null, 2);
  } catch (error) {
    showError("run-error", error);
  }
});

// Realtime: a native WebSocket to keyward's openai route (browsers cannot set headers on a
// socket, so the page offers its visitor token as "openai-insecure-api-key.<token>"). keyward
// opens OpenAI's socket with the key, clamps each response and refuses another model.
let socket;
const seen = [];

function rtState(state) {
  $("rt-state").textContent = state;
  const open = state === "open";
  $("rt-send").disabled = !open;
  $("rt-switch").disabled = !open;
  $("rt-connect").disabled = open || state === "connecting";
}

function rtEvent(type) {
  seen.push(type);
  $("rt-events").textContent = seen.slice(-4).join(", ");
}

$("rt-connect").addEventListener("click", async () => {
  $("rt-error").hidden = true;
  seen.length = 0;
  rtState("connecting");
  const url = `${G.replace(/^http/, "ws")}/openai/v1/realtime?model=gpt-realtime`;
  // The visitor token goes in a subprotocol: the gateway reads it there and never forwards it.
  const token = await visitorToken();
  socket = new WebSocket(url, ["realtime", `openai-insecure-api-key.${token}`]);
  socket.onopen = () => rtState("open");
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    rtEvent(event.type);
    if (event.type === "session.created") {
      // Text only: this panel has no microphone or speaker.
      socket.send(JSON.stringify({
        type: "session.update",
        session: { type: "realtime", output_modalities: ["text"] },
      }));
    }
    if (event.type === "response.output_text.delta") $("rt-answer").textContent += event.delta;
    if (event.type === "error") {
      $("rt-error").textContent = `keyward refused the frame: ${event.error.code}: ` +
        event.error.message;
      $("rt-error").hidden = false;
    }
  };
  socket.onclose = (event) => {
    rtState(`closed ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
  };
});

$("rt-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("rt-answer").textContent = "";
  socket.send(JSON.stringify({
    type: "conversation.item.create",
    item: {
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: $("rt-prompt").value }],
    },
  }));
  socket.send(JSON.stringify({ type: "response.create" }));
});

// The route allows gpt-realtime only: keyward answers another model with an error event and
// closes the socket (1008) before the provider sees it.
$("rt-switch").addEventListener("click", () => {
  socket.send(JSON.stringify({
    type: "session.update",
    session: { type: "realtime", model: "gpt-4o-realtime-preview" },
  }));
});

// Earn the visitor token before the first question, so the answer does not wait for it.
const started = performance.now();
try {
  await visitorToken({
    onProgress: (attempts, difficulty) => {
      $("visitor").textContent = `Earning a visitor token: ${attempts} of about ${difficulty} ` +
        "attempts…";
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  $("visitor").textContent = `Visitor token earned by proof of work in ${seconds} s.`;
} catch (error) {
  $("visitor").textContent = `No visitor token: ${error.message}`;
}

// Ready: the buttons work from now on.
for (const id of ["send", "burst", "run", "rt-connect"]) $(id).disabled = false;
