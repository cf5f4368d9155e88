/**
 * Browser apps against keyward, in a real Chromium: a page on its own origin, listed in
 * `server.cors`, calls the gateway on another origin with the SDKs browser apps use, each
 * bundled for the browser here (`deno bundle --platform=browser`): tokens reach the DOM at
 * separate moments over the stream; the `openai` SDK streams; `@inferencesh/sdk` runs an app
 * with `onUpdate` through the target route (and fails in Chromium under `cors` without
 * `credentials`, as `check` warns); `@fal-ai/client` runs a model through `proxyUrl`; an
 * `EventSource` follows `__inf_target`; a 429 with `Retry-After` and an upstream error are
 * read by the page, and so is the `event: error` that ends a stream the upstream broke off
 * (after which the response is cut, so the page's reader fails rather than ends). No
 * key appears in any header, body, DOM or console line the browser saw.
 * The status page opens in a tab with its charts, and only listed origins may read it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createGateway } from "../mod.ts";
import { sha256 } from "../src/auth/sha256.ts";
import type { RequestRecord } from "../src/observe/log.ts";
import {
  bundleForBrowser,
  captureNetwork,
  launchBrowser,
  servePages,
  type TestBrowser,
} from "./helpers/browser.ts";
import { type InferenceMock, startInferenceMock } from "./helpers/inference_mock.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { startRawUpstream } from "./helpers/raw_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

const KEYS = {
  OPENAI_API_KEY: "sk-Hq7Lp2Wx9Zr4Tb6Nc3Vm",
  INFERENCE_API_KEY: "inf-Ue8Ks1Pd5Yg0Ja7Rf2Lo",
  FAL_KEY: "fal-Mx4Qe9Bw2Hs7Dn1Vk6Ti",
};

const ADMIN_TOKEN = "adm-Gh3Jk6Lz9Xc2Vb5Nm8Qw";
const ADMIN_SHA256 = Array.from(sha256(ADMIN_TOKEN), (b) => b.toString(16).padStart(2, "0"))
  .join("");

/** Every run of 8 characters of every key: none may appear anywhere the browser looked. */
function assertNoKey(text: string, where: string) {
  for (const key of Object.values(KEYS)) {
    for (let i = 0; i + 8 <= key.length; i++) {
      assert.equal(text.includes(key.slice(i, i + 8)), false, `a piece of a key in ${where}`);
    }
  }
}

function routes(
  mock: MockUpstream,
  inf: InferenceMock,
  app: string,
  credentials: boolean,
  broken = "http://127.0.0.1:9",
) {
  return `server:
  cors: { origins: ["${app}"]${credentials ? ", credentials: true" : ""} }
  status: /keyward/status
  admin: { token_sha256: "${ADMIN_SHA256}" }
clients:
  - { id: alice, token: "tk-Wq2Er5Ty8Ui1Op4As7Df", limits: { requests: 100/day } }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
    target: { hosts: ["${inf.host}"] }
  - name: fal
    path: /api/fal/proxy
    preset: fal
  - name: events
    path: /api/events
    target: { query: __inf_target, hosts: ["${mock.host}"] }
    key: { env: INFERENCE_API_KEY }
    allow: ["GET /spaced"]
  - name: limited
    path: /limited
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow: ["GET /**"]
    limits: { requests: 1/min }
  - name: any
    path: /any
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow: ["GET /**"]
  - name: broken
    path: /broken
    upstream: ${broken}
    key: { env: OPENAI_API_KEY }
    allow: ["POST /v1/chat/completions"]
`;
}

/** Serves a gateway whose fal requests (to https://fal.run) reach the loopback mock. */
async function serveGateway(yaml: string, mock: MockUpstream) {
  const logs: RequestRecord[] = [];
  const upstreamFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname !== "fal.run") return fetch(input, init);
    return fetch(new URL(url.pathname + url.search, mock.url), init);
  };
  const gateway = await createGateway(yaml, undefined, {
    upstreamFetch,
    log: (record) => logs.push(structuredClone(record)),
    readers: { env: (name) => KEYS[name as keyof typeof KEYS], file: () => "" },
  });
  const server = await serveLoopback(gateway.fetch);
  return {
    url: server.url,
    logs,
    close: async () => {
      await server.close();
      await gateway.close();
    },
  };
}

/** The app: each scenario writes what it saw into `window.result` and the page. */
function appPage(gateway: string, mock: MockUpstream, inf: InferenceMock): string {
  const target = encodeURIComponent(`${mock.url}/spaced`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>browser app</title>
<style>body{font:14px "DejaVu Sans",sans-serif;margin:16px}section{margin:8px 0}
h2{font-size:14px;margin:0}pre{margin:2px 0;white-space:pre-wrap}</style></head>
<body><h1>A browser app calling keyward</h1>
<section><h2>fetch stream</h2><p id="tokens"></p></section>
<section><h2>openai SDK</h2><p id="openai"></p></section>
<section><h2>@inferencesh/sdk</h2><pre id="inference"></pre></section>
<section><h2>@fal-ai/client</h2><pre id="fal"></pre></section>
<section><h2>EventSource</h2><pre id="events"></pre></section>
<section><h2>errors</h2><pre id="errors"></pre></section>
<section><h2>a stream the upstream broke off</h2><pre id="broken"></pre></section>
<script type="module">
import { OpenAI, inference, createFalClient } from "/sdk.js";
const G = ${JSON.stringify(gateway)};
const only = new URLSearchParams(location.search).get("only");
const show = (id, text) => { document.getElementById(id).textContent = text; };
const chat = (stream) => JSON.stringify({ model: "gpt-4o-mini", stream, messages: [{ role: "user", content: "hi" }] });
const result = {};

// When each token became visible: one timestamp per DOM change.
const watch = (id) => {
  const times = [];
  new MutationObserver(() => times.push(performance.now()))
    .observe(document.getElementById(id), { childList: true, characterData: true, subtree: true });
  return times;
};

const scenarios = {
  async tokens() {
    const times = watch("tokens");
    const response = await fetch(G + "/openai/v1/chat/completions?spacing=150", {
      method: "POST", headers: { "content-type": "application/json" }, body: chat(true),
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const line of value.split("\\n")) {
        if (!line.startsWith("data: {")) continue;
        const delta = JSON.parse(line.slice(6)).choices[0]?.delta?.content;
        if (delta) { text += delta; show("tokens", text); }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { text, times, id: response.headers.get("x-request-id") };
  },
  async openai() {
    const times = watch("openai");
    const client = new OpenAI({ baseURL: G + "/openai/v1", apiKey: "unused", dangerouslyAllowBrowser: true });
    const stream = await client.chat.completions.create(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true },
      { query: { spacing: 100 } },
    );
    let text = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) { text += delta; show("openai", text); }
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { text, times };
  },
  async inference() {
    const client = inference({ proxyUrl: G + "/api/inference/proxy", baseUrl: ${
    JSON.stringify(inf.url)
  } });
    const updates = [];
    const task = await client.run({ app: "demo/echo", input: { prompt: "hi" } }, {
      onUpdate: (update) => { updates.push(update.status); show("inference", JSON.stringify(updates)); },
    });
    show("inference", JSON.stringify({ updates, output: task.output }));
    return { updates, output: task.output, status: task.status };
  },
  async fal() {
    const fal = createFalClient({ proxyUrl: G + "/api/fal/proxy" });
    const answer = await fal.run("fal-ai/fast-sdxl", { input: { prompt: "a lighthouse" } });
    show("fal", JSON.stringify(answer.data));
    return { data: answer.data, requestId: answer.requestId };
  },
  async events() {
    return await new Promise((resolve) => {
      const seen = [];
      const source = new EventSource(G + "/api/events?__inf_target=${target}");
      source.onmessage = (e) => {
        seen.push(JSON.parse(e.data).i);
        show("events", seen.join(" "));
        if (seen.length === 5) { source.close(); resolve(seen); }
      };
      source.onerror = () => { source.close(); resolve(seen); };
    });
  },
  async errors() {
    const read = async (path) => {
      const response = await fetch(G + path);
      const body = await response.json();
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        remaining: response.headers.get("ratelimit-remaining"),
        type: body.error?.type,
        message: body.error?.message,
      };
    };
    const first = await read("/limited/ok");
    const limited = await read("/limited/again");
    const upstream = await read("/any/status/500");
    show("errors", [first, limited, upstream].map((r) => JSON.stringify(r)).join("\\n"));
    return { first, limited, upstream };
  },
  async broken() {
    const response = await fetch(G + "/broken/v1/chat/completions", {
      method: "POST", headers: { "content-type": "application/json" }, body: chat(true),
    });
    // Read as hand-written readers do; the stream must not end as if it were complete.
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let ended = "done";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch (failure) {
      ended = String(failure);
    }
    let deltas = "";
    let error;
    for (const event of text.split("\\n\\n")) {
      const lines = event.split("\\n");
      const data = lines.find((line) => line.startsWith("data: "))?.slice(6);
      if (!data) continue;
      if (lines.includes("event: error")) error = JSON.parse(data).error;
      else deltas += JSON.parse(data).choices[0].delta.content;
    }
    show("broken", deltas + "\\n" + JSON.stringify(error) + "\\n" + ended);
    return { status: response.status, deltas, error, ended };
  },
};

for (const [name, run] of Object.entries(scenarios)) {
  if (only && only !== name) continue;
  try {
    result[name] = await run();
  } catch (error) {
    result[name] = { error: String(error) };
    show(name, String(error));
  }
}
window.result = result;
</script></body></html>`;
}

// deno-lint-ignore no-explicit-any
type Result = Record<string, any>;

async function runApp(browser: TestBrowser, url: string, shot: string): Promise<Result> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction("window.result !== undefined", undefined, { timeout: 20_000 });
  await browser.screenshot(page, shot);
  const result = await page.evaluate("window.result") as Result;
  assertNoKey(await page.content(), `the DOM of ${shot}`);
  await page.close();
  return result;
}

/** Moments at least `gap` ms after the one before: how many separate times text appeared. */
function separateMoments(times: number[], gap = 40): number {
  let count = 0;
  let last = -Infinity;
  for (const t of times) {
    if (t - last >= gap) count++;
    last = t;
  }
  return count;
}

Deno.test({
  name: "browsers: the SDKs and streams work from a listed page, with no key in sight",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const [sdk, browser, mock, inf, pages] = await Promise.all([
    bundleForBrowser(new URL("./sdk/browser_entry.ts", import.meta.url)),
    launchBrowser({ hosts: ["evil.test"] }),
    startMockUpstream(),
    startInferenceMock(),
    servePages(),
  ]);
  const network = captureNetwork(browser);
  const app = pages.origin("localhost");
  pages.set("/sdk.js", sdk, "text/javascript; charset=utf-8");
  // An upstream that sends two events of a stream, then dies in the middle of the third.
  const broken = startRawUpstream(async (conn) => {
    if (!await conn.request()) return;
    await conn.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    for (const word of ["Hello", " there"]) {
      const event = `data: ${JSON.stringify({ choices: [{ delta: { content: word } }] })}\n\n`;
      await conn.write(`${event.length.toString(16)}\r\n${event}\r\n`);
      await conn.sleep(50);
    }
    await conn.write('40\r\ndata: {"choi');
  });
  const gateway = await serveGateway(routes(mock, inf, app, true, broken.url), mock);
  try {
    pages.set("/app", appPage(gateway.url, mock, inf));

    await t.step("streams, SDKs, EventSource and errors, read by the page", async () => {
      const result = await runApp(browser, `${app}/app`, "sdk-app");

      // Five tokens 150 ms apart: each shows up on its own, over most of the stream.
      assert.equal(result.tokens.text, "Hello from the mock.");
      const times: number[] = result.tokens.times;
      assert.ok(
        separateMoments(times) >= 3,
        `tokens appeared at ${separateMoments(times)} moments`,
      );
      assert.ok(times.at(-1)! - times[0] >= 300, `over ${times.at(-1)! - times[0]} ms`);
      assert.ok(result.tokens.id, "x-request-id is readable");

      assert.equal(result.openai.text, "Hello from the mock.", JSON.stringify(result.openai));
      assert.ok(separateMoments(result.openai.times) >= 3, "the SDK's stream arrived in steps");

      assert.deepEqual(result.inference.output, { text: "done" }, JSON.stringify(result.inference));
      assert.ok(result.inference.updates.length >= 1, "onUpdate was called");
      const run = inf.requests.find((r) => r.path === "/apps/run");
      assert.equal(run?.headers.authorization, `Bearer ${KEYS.INFERENCE_API_KEY}`);
      assert.equal(run?.headers.cookie, undefined);

      assert.deepEqual(result.fal.data, { ok: true, path: "/fal-ai/fast-sdxl", method: "POST" });
      const fal = mock.requests.find((r) => r.path === "/fal-ai/fast-sdxl");
      assert.equal(fal?.headers.authorization, `Key ${KEYS.FAL_KEY}`);

      assert.deepEqual(result.events, [0, 1, 2, 3, 4]);

      assert.equal(result.errors.first.status, 200);
      assert.equal(result.errors.first.remaining, "0");
      assert.equal(result.errors.limited.status, 429);
      assert.equal(result.errors.limited.type, "rate_limited");
      assert.match(result.errors.limited.retryAfter, /^\d+$/);
      assert.deepEqual(
        [result.errors.upstream.status, result.errors.upstream.message],
        [500, "upstream says no"],
        "the upstream's own error passes through, readable",
      );

      // The page can tell a stream the upstream broke off from one that ended.
      assert.equal(result.broken.status, 200, JSON.stringify(result.broken));
      assert.equal(result.broken.deltas, "Hello there");
      assert.equal(result.broken.error?.type, "bad_gateway", JSON.stringify(result.broken));
      // ...and the response was cut after its error event: the read failed, as behind nginx.
      assert.match(result.broken.ended, /TypeError/, JSON.stringify(result.broken));
      const log = gateway.logs.find((record) => record.route === "broken");
      assert.equal(log?.error, "upstream_broken");
    });

    await t.step("@inferencesh/sdk fails in Chromium under cors without credentials", async () => {
      const strict = await serveGateway(routes(mock, inf, app, false), mock);
      try {
        pages.set("/strict", appPage(strict.url, mock, inf));
        const before = inf.requests.length;
        const result = await runApp(browser, `${app}/strict?only=inference`, "sdk-no-credentials");
        assert.match(result.inference.error ?? "", /fetch|network/i, JSON.stringify(result));
        // Chromium refuses the preflight's answer already: the run never starts.
        assert.equal(inf.requests.length, before);
      } finally {
        await strict.close();
      }
    });

    await t.step("the status page opens in a tab; only listed origins may read it", async () => {
      const page = await browser.newPage();
      const response = await page.goto(`${gateway.url}/keyward/status`);
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()["content-type"] ?? "", /text\/html/);
      assert.equal(await page.locator("section.route").count(), 7);
      assert.ok(await page.locator("svg").count() >= 24, "charts for every route");
      assert.match(await page.innerText("#route-openai"), /\d+ requests/);
      await browser.screenshot(page, "status-page");
      assertNoKey(await page.content(), "the status page");

      // The page's own script (allowed by its CSP) shows client usage for the admin token.
      await page.fill("#admin-token", "not-the-token");
      await page.click("#admin-form button");
      // A locator, not waitForFunction: the page's CSP forbids the eval that would take.
      await page.locator("#admin-note", { hasText: "not" }).waitFor({ timeout: 5_000 });
      await page.fill("#admin-token", ADMIN_TOKEN);
      await page.click("#admin-form button");
      await page.waitForSelector('#clients[data-admin="true"]', { timeout: 5_000 });
      assert.match(await page.innerText("#clients"), /alice\s+limited\s+0 of 100\/day, 100 left/);
      await browser.screenshot(page, "status-page-admin");

      // From a listed origin the JSON is readable; from another, the browser gets nothing.
      const read = () =>
        `fetch(${JSON.stringify(`${gateway.url}/keyward/status`)})
          .then((r) => r.json()).then((j) => j.routes.length, (e) => String(e))`;
      await page.goto(`${app}/app?only=none`);
      assert.equal(await page.evaluate(read()), 7);
      pages.set("/blank", "<!doctype html><title>blank</title>");
      await page.goto(`${pages.origin("evil.test")}/blank`);
      assert.match(String(await page.evaluate(read())), /Failed to fetch/);
      await page.close();
    });

    for (const line of await network.lines()) assertNoKey(line, `the network: ${line}`);
    for (const message of browser.messages) assertNoKey(message, `the console: ${message}`);
  } finally {
    await gateway.close();
    await browser.close();
    await Promise.all([pages.close(), mock.close(), inf.close(), broken.close()]);
  }
});
