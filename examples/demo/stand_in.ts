/**
 * A local stand-in for the providers, used by the demo when their keys are not set: an
 * OpenAI-style chat completions endpoint that streams its answer word by word, an OpenAI-style
 * realtime WebSocket that answers in text events word by word, and the few inference.sh calls
 * an app run makes (start a run, stream the task's updates). It answers whatever key it gets;
 * nothing here is a real provider.
 *
 * @module
 */

/** A running stand-in provider. */
export interface StandIn {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Host and port, for a target route's `hosts`. */
  host: string;
  /** Stops it. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const ULID_DIGITS = "0123456789abcdefghjkmnpqrstvwxyz";
const RUNNING = 7;
const COMPLETED = 10;

/** A lowercase ULID-shaped id, as inference.sh mints them. */
function ulid(): string {
  const random = crypto.getRandomValues(new Uint8Array(25));
  return "0" + Array.from(random, (b) => ULID_DIGITS[b % 32]).join("");
}

/** Sends `items` as a stream, one every `spacingMs`, each formatted by `format`. */
function spaced(items: unknown[], spacingMs: number, format: (item: unknown) => string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let i = 0;
      const send = () => {
        if (i === items.length) return controller.close();
        controller.enqueue(encoder.encode(format(items[i++])));
        timer = setTimeout(send, spacingMs);
      };
      send();
    },
    cancel: () => clearTimeout(timer),
  });
}

function lastUserText(body: { messages?: { role: string; content: unknown }[] }): string {
  const last = body.messages?.filter((m) => m.role === "user").at(-1)?.content;
  return typeof last === "string" ? last : "";
}

function chat(body: Record<string, unknown>): Response {
  const asked = lastUserText(body as never).slice(0, 200);
  const answer = `This answer comes from the local stand-in provider, streamed word by word ` +
    `through keyward: no OPENAI_API_KEY is set, so the gateway forwards to this loopback ` +
    `server instead of OpenAI. You asked: "${asked}". Set OPENAI_API_KEY and run ` +
    `\`deno task demo\` again to talk to the real model.`;
  const words = answer.split(/(?<= )/);
  const model = String(body.model ?? "gpt-4o-mini");
  const chunk = (content: string) => ({
    id: "chatcmpl-standin",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
  if (!body.stream) {
    return Response.json({
      id: "chatcmpl-standin",
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: answer },
        finish_reason: "stop",
      }],
      usage: { prompt_tokens: asked.length, completion_tokens: words.length, total_tokens: 0 },
    });
  }
  const usage = {
    id: "chatcmpl-standin",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [],
    usage: {
      prompt_tokens: Math.ceil(asked.length / 4),
      completion_tokens: words.length,
      total_tokens: Math.ceil(asked.length / 4) + words.length,
    },
  };
  const events = [...words.map(chunk), usage, "[DONE]"];
  const stream = spaced(
    events,
    60,
    (event) => `data: ${typeof event === "string" ? event : JSON.stringify(event)}\n\n`,
  );
  return new Response(stream, { headers: { "content-type": "text/event-stream" } });
}

/**
 * An OpenAI-style realtime session, voice-free: `session.created`, then for each
 * `response.create` the last user text echoed back word by word as `response.output_text.delta`
 * events, and `response.done` with usage.
 */
function realtime(request: Request): Response {
  // The request cannot be read once upgraded.
  const offered = request.headers.get("sec-websocket-protocol") ?? "";
  const model = new URL(request.url).searchParams.get("model") ?? "gpt-realtime";
  const { socket, response } = Deno.upgradeWebSocket(request);
  if (/\brealtime\b/.test(offered)) response.headers.set("sec-websocket-protocol", "realtime");
  const session: Record<string, unknown> = { type: "realtime", model, output_modalities: ["text"] };
  let said = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const send = (event: Record<string, unknown>) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(event));
  };
  socket.onopen = () => send({ type: "session.created", session });
  socket.onclose = () => clearTimeout(timer);
  socket.onmessage = (message) => {
    const event = JSON.parse(String(message.data));
    if (event.type === "session.update") {
      Object.assign(session, event.session);
      send({ type: "session.updated", session });
    } else if (event.type === "conversation.item.create") {
      const content = event.item?.content ?? [];
      said = content.map((part: { text?: string }) => part.text ?? "").join(" ");
      send({ type: "conversation.item.added", item: event.item });
    } else if (event.type === "response.create") {
      const id = `resp_${ulid()}`;
      const words = `The stand-in heard you say: "${said.slice(0, 200)}". This answer came as ` +
        `realtime text events through keyward's WebSocket proxy.`;
      const parts = words.split(/(?<= )/);
      send({ type: "response.created", response: { id, status: "in_progress" } });
      let i = 0;
      const next = () => {
        if (i < parts.length) {
          send({ type: "response.output_text.delta", response_id: id, delta: parts[i++] });
          timer = setTimeout(next, 60);
          return;
        }
        send({ type: "response.output_text.done", response_id: id, text: words });
        const input = Math.ceil(said.length / 4) + 4;
        send({
          type: "response.done",
          response: {
            id,
            status: "completed",
            max_output_tokens: event.response?.max_output_tokens ?? session.max_output_tokens,
            usage: {
              input_tokens: input,
              output_tokens: parts.length,
              total_tokens: input + parts.length,
            },
          },
        });
      };
      next();
    }
  };
  return response;
}

/** Starts the stand-in on 127.0.0.1 at a free port. */
export async function startStandIn(): Promise<StandIn> {
  // Runs started here, by task id: what the app was asked.
  const tasks = new Map<string, { app: string; input: unknown }>();
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => ready.resolve(addr),
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/v1/realtime" && request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return realtime(request);
    }
    const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
    if (path.endsWith("/chat/completions")) return chat(body);
    if (path === "/apps/run") {
      const id = ulid();
      tasks.set(id, { app: String(body.app ?? ""), input: body.input });
      return Response.json({ id, status: RUNNING, app: body.app, input: body.input });
    }
    const stream = /^\/tasks\/([0-9a-z]{26})\/stream$/.exec(path);
    if (stream && tasks.has(stream[1])) {
      const id = stream[1];
      const { app, input } = tasks.get(id)!;
      const prompt = (input as { prompt?: unknown } | undefined)?.prompt ?? "";
      const updates = [
        { id, status: RUNNING, logs: "starting" },
        { id, status: RUNNING, logs: "working" },
        {
          id,
          status: COMPLETED,
          output: { text: `The stand-in ran ${app} with "${String(prompt).slice(0, 200)}"` },
        },
      ];
      return new Response(
        spaced(updates, 300, (data) => JSON.stringify({ data }) + "\n"),
        { headers: { "content-type": "application/x-ndjson" } },
      );
    }
    const task = /^\/tasks\/([0-9a-z]{26})$/.exec(path);
    if (task && tasks.has(task[1])) {
      return Response.json({ id: task[1], status: COMPLETED, output: { text: "done" } });
    }
    return Response.json({ error: { message: `The stand-in has no ${path}` } }, { status: 404 });
  });
  const addr = await ready.promise;
  const host = `127.0.0.1:${addr.port}`;
  return { url: `http://${host}`, host, close: () => server.shutdown() };
}
