/**
 * A stream the upstream breaks off never looks complete. The client gets the events that
 * arrived whole, then a last error event in the route's provider's own error shape (OpenAI's,
 * Anthropic's, Gemini's; keyward's on a route without a preset), and then the response is cut
 * without its last chunk: the chunked terminator never comes and the connection closes, so a
 * reader that ignores events sees a network error, as behind nginx. Shown on the wire (raw TCP,
 * through `Deno.serve`, the standalone server, and the Node bridge under Deno and under real
 * Node), with each provider's own SDK, and in Chromium with a page reading `getReader()`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { createGateway } from "../mod.ts";
import { serveNode } from "../src/adapters/node_bridge.ts";
import type { RequestRecord } from "../src/observe/log.ts";
import { serve } from "../src/server.ts";
import { launchBrowser, servePages } from "./helpers/browser.ts";
import { startGateway } from "./helpers/gateway.ts";
import { type RawConnection, startRawUpstream } from "./helpers/raw_upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KEY = "sk-cut-SECRET-0123456789";
const BROKE = "The upstream broke off the stream";

function chunk(text: string): string {
  return `${encoder.encode(text).length.toString(16)}\r\n${text}\r\n`;
}

/** Two whole events of each provider's stream, as that provider writes them. */
const EVENTS: Record<string, string[]> = {
  openai: ["Once", " upon"].map((text) =>
    `data: ${
      JSON.stringify({
        id: "c1",
        object: "chat.completion.chunk",
        created: 1,
        model: "gpt-4o-mini",
        choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
      })
    }\n\n`
  ),
  anthropic: [
    `event: message_start\ndata: ${
      JSON.stringify({
        type: "message_start",
        message: {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "claude-test-model",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 5, output_tokens: 1 },
        },
      })
    }\n\n`,
    `event: content_block_start\ndata: ${
      JSON.stringify({
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      })
    }\n\n`,
    `event: content_block_delta\ndata: ${
      JSON.stringify({
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "Once upon" },
      })
    }\n\n`,
  ],
  gemini: ["Once", " upon"].map((text) =>
    `data: ${
      JSON.stringify({ candidates: [{ content: { parts: [{ text }], role: "model" }, index: 0 }] })
    }\r\n\r\n`
  ),
};

/** An upstream that streams a provider's first events, then dies in the middle of the next. */
async function breakOff(conn: RawConnection): Promise<void> {
  const request = await conn.request();
  if (!request) return;
  const provider = request.target.includes("messages")
    ? "anthropic"
    : request.target.includes("streamGenerateContent")
    ? "gemini"
    : "openai";
  await conn.write(
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
  );
  for (const event of EVENTS[provider]) {
    await conn.write(chunk(event));
    await conn.sleep(10);
  }
  // a chunk that promises 64 bytes and sends part of an event: then the connection dies
  await conn.write('40\r\ndata: {"choi');
  await conn.sleep(20);
}

function routes(upstream: string): string {
  return `server:
  cors: { origins: ["*"] }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
  - name: anthropic
    path: /anthropic
    preset: anthropic
    upstream: ${upstream}
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${upstream}
  - name: plain
    path: /plain
    upstream: ${upstream}
    key: { env: OPENAI_API_KEY }
    allow: ["POST /v1/chat/completions"]
`;
}

const ENV = { OPENAI_API_KEY: KEY, ANTHROPIC_API_KEY: KEY, GEMINI_API_KEY: KEY };

const REQUESTS: Record<string, { path: string; body: unknown }> = {
  openai: {
    path: "/openai/v1/chat/completions",
    body: { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] },
  },
  anthropic: {
    path: "/anthropic/v1/messages",
    body: {
      model: "claude-test-model",
      max_tokens: 50,
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    },
  },
  gemini: {
    path: "/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
    body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
  },
  plain: {
    path: "/plain/v1/chat/completions",
    body: { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] },
  },
};

/** What came over one raw HTTP/1.1 exchange: its status, its chunks, and how it ended. */
interface Wire {
  status: number;
  /** The chunk payloads, in order. */
  chunks: string[];
  /** True when the zero-length last chunk came. */
  terminated: boolean;
  /** True when the server closed the connection. */
  closed: boolean;
}

/** POSTs `body` to `path` on a raw socket and reads until the server closes or 5 s pass. */
async function rawPost(base: string, path: string, body: unknown): Promise<Wire> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const text = JSON.stringify(body);
  await conn.write(encoder.encode(
    `POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
      `content-length: ${encoder.encode(text).length}\r\n\r\n${text}`,
  ));
  let raw = "";
  let closed = false;
  const buffer = new Uint8Array(16 * 1024);
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) {
        closed = true;
        break;
      }
      raw += decoder.decode(buffer.subarray(0, n));
      // a server that ends the response properly may keep the connection: stop at the end
      if (raw.endsWith("\r\n0\r\n\r\n")) break;
    }
  } catch (error) {
    closed = error instanceof Deno.errors.ConnectionReset;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
  const headEnd = raw.indexOf("\r\n\r\n");
  assert.ok(headEnd > 0, raw);
  assert.match(raw.slice(0, headEnd), /transfer-encoding: chunked/i);
  let rest = raw.slice(headEnd + 4);
  const chunks: string[] = [];
  let terminated = false;
  for (;;) {
    const line = rest.indexOf("\r\n");
    if (line < 0) break;
    const size = parseInt(rest.slice(0, line), 16);
    if (size === 0) {
      terminated = true;
      break;
    }
    const data = encoder.encode(rest.slice(line + 2));
    if (data.length < size + 2) break;
    chunks.push(decoder.decode(data.subarray(0, size)));
    rest = decoder.decode(data.subarray(size + 2));
  }
  return { status: Number(raw.slice(9, 12)), chunks, terminated, closed };
}

/** The last event of what arrived, and the text before it. */
function ending(wire: Wire): { before: string; last: string } {
  const text = wire.chunks.join("");
  const events = text.split(/\r?\n\r?\n/).filter((event) => event !== "");
  return { before: events.slice(0, -1).join("\n\n"), last: events.at(-1) ?? "" };
}

/** The error each preset's last event carries. */
const LAST: Record<string, { lines: string[]; data: unknown }> = {
  openai: {
    lines: ["event: error"],
    data: { error: { message: BROKE, type: "server_error", code: "upstream_broken" } },
  },
  anthropic: {
    lines: ["event: error"],
    data: { type: "error", error: { type: "api_error", message: BROKE } },
  },
  gemini: { lines: [], data: { error: { code: 503, message: BROKE, status: "UNAVAILABLE" } } },
  plain: { lines: ["event: error"], data: { error: { type: "bad_gateway", message: BROKE } } },
};

function assertCut(name: string, wire: Wire): void {
  assert.equal(wire.status, 200, name);
  assert.equal(wire.terminated, false, `${name}: the last chunk was sent`);
  assert.equal(wire.closed, true, `${name}: the connection stayed open`);
  const { before, last } = ending(wire);
  const lines = last.split("\n");
  const data = lines.pop()!;
  assert.deepEqual(lines, LAST[name].lines, `${name}: ${last}`);
  assert.deepEqual(JSON.parse(data.slice("data: ".length)), LAST[name].data, name);
  assert.ok(!before.includes('{"choi'), `${name}: the half-sent event was dropped`);
  assert.ok(before.includes("Once"), `${name}: the whole events came first`);
  assert.ok(!JSON.stringify(wire).includes(KEY), name);
}

Deno.test("a cut stream ends with the provider's error event and no last chunk, through Deno.serve", async () => {
  const upstream = startRawUpstream(breakOff);
  const gw = await startGateway(routes(upstream.url), ENV);
  try {
    for (const [name, { path, body }] of Object.entries(REQUESTS)) {
      assertCut(name, await rawPost(gw.url, path, body));
    }
    assert.equal(gw.logs.length, 4);
    assert.ok(gw.logs.every((log) => log.error === "upstream_broken"), JSON.stringify(gw.logs));
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("the standalone server cuts it the same way, and logs no handler failure for it", async () => {
  const upstream = startRawUpstream(breakOff);
  const dir = await Deno.makeTempDir({ prefix: "keyward-cut-" });
  await Deno.writeTextFile(`${dir}/routes.yaml`, routes(upstream.url));
  const logs: RequestRecord[] = [];
  const server = await serve({
    configPath: `${dir}/routes.yaml`,
    port: 0,
    hostname: "127.0.0.1",
    watch: false,
    signals: false,
    log: (record) => logs.push(structuredClone(record)),
    readers: { env: (name) => ENV[name as keyof typeof ENV] },
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (const name of ["openai", "plain"]) {
      assertCut(name, await rawPost(base, REQUESTS[name].path, REQUESTS[name].body));
    }
  } finally {
    await server.shutdown();
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(logs.map((log) => log.error), ["upstream_broken", "upstream_broken"]);
});

Deno.test("the Node bridge destroys the socket instead of ending the response", async () => {
  const upstream = startRawUpstream(breakOff);
  const gateway = await createGateway(routes(upstream.url), undefined, {
    log: () => {},
    readers: { env: (name) => ENV[name as keyof typeof ENV], file: () => "" },
  });
  const server = createServer((req, res) => void serveNode(req, res, gateway.fetch));
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as { port: number };
  try {
    for (const name of ["openai", "anthropic"]) {
      assertCut(
        name,
        await rawPost(`http://127.0.0.1:${port}`, REQUESTS[name].path, REQUESTS[name].body),
      );
    }
  } finally {
    await new Promise((closed) => server.close(closed));
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("under real Node too, the bridge leaves a failed body without its last chunk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-node-bridge-" });
  const bridge = `${dir}/node_bridge.mjs`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=node",
      "-o",
      bridge,
      new URL("../src/adapters/node_bridge.ts", import.meta.url).pathname,
    ],
    stderr: "piped",
  }).output();
  assert.ok(built.success, decoder.decode(built.stderr));
  // A fetch handler whose body sends an event and then fails, as a cut stream's does.
  await Deno.writeTextFile(
    `${dir}/server.mjs`,
    `import { createServer } from "node:http";
import { serveNode } from "./node_bridge.mjs";
const handle = async () => {
  let sent = false;
  const body = new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode("data: 1\\n\\n"));
        return;
      }
      controller.enqueue(new TextEncoder().encode("event: error\\ndata: {}\\n\\n"));
      controller.error(new Error("cut"));
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
};
const server = createServer((req, res) => void serveNode(req, res, handle));
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`,
  );
  const child = new Deno.Command("node", {
    args: [`${dir}/server.mjs`],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number((await reader.read()).value!.trim());
    const wire = await rawPost(`http://127.0.0.1:${port}`, "/", {});
    assert.deepEqual(wire.chunks.join(""), "data: 1\n\nevent: error\ndata: {}\n\n");
    assert.equal(wire.terminated, false);
    assert.equal(wire.closed, true);
    reader.releaseLock();
  } finally {
    child.kill();
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("each provider's SDK throws the provider's own error after the events that came", async () => {
  const upstream = startRawUpstream(breakOff);
  const gw = await startGateway(routes(upstream.url), ENV);
  try {
    const openai = new OpenAI({ apiKey: "client", baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const texts: string[] = [];
    const stream = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    const thrown = await (async () => {
      for await (const part of stream) texts.push(part.choices[0]?.delta?.content ?? "");
    })().then(() => undefined, (error) => error);
    assert.ok(thrown instanceof OpenAI.APIError, String(thrown));
    assert.equal(thrown.message, BROKE);
    assert.equal(thrown.code, "upstream_broken");
    assert.equal(texts.join(""), "Once upon");

    const anthropic = new Anthropic({
      apiKey: "client",
      baseURL: `${gw.url}/anthropic`,
      maxRetries: 0,
    });
    const said: string[] = [];
    const failed = await (async () => {
      const events = await anthropic.messages.create({
        model: "claude-test-model",
        max_tokens: 50,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      });
      for await (const event of events) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
          said.push(event.delta.text);
        }
      }
    })().then(() => undefined, (error) => error);
    assert.ok(failed instanceof Anthropic.APIError, String(failed));
    assert.equal(failed.error?.error?.type, "api_error");
    assert.match(failed.message, new RegExp(BROKE));
    assert.equal(said.join(""), "Once upon");

    const genai = new GoogleGenAI({
      apiKey: "client",
      httpOptions: { baseUrl: `${gw.url}/gemini` },
    });
    const parts: string[] = [];
    const broke = await (async () => {
      const chunks = await genai.models.generateContentStream({
        model: "gemini-2.0-flash",
        contents: "hi",
      });
      for await (const part of chunks) parts.push(part.text ?? "");
    })().then(() => undefined, (error) => error);
    assert.equal(broke?.name, "ApiError", String(broke));
    assert.equal(broke.status, 503);
    assert.match(broke.message, new RegExp(BROKE));
    assert.equal(parts.join(""), "Once upon");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test({
  name: "a page reading the body with getReader() sees a network error, not a finished answer",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const upstream = startRawUpstream(breakOff);
  const [browser, pages] = await Promise.all([launchBrowser(), servePages()]);
  const app = pages.origin("localhost");
  const gw = await startGateway(routes(upstream.url).replace('["*"]', `["${app}"]`), ENV);
  try {
    pages.set(
      "/reader",
      `<!doctype html><meta charset="utf-8"><script type="module">
const read = async (path) => {
  const response = await fetch(${JSON.stringify(gw.url)} + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: ${JSON.stringify(JSON.stringify(REQUESTS.openai.body))},
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { status: response.status, text, ended: "done" };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { status: response.status, text, ended: String(error) };
  }
};
window.result = { openai: await read("/openai/v1/chat/completions"), plain: await read("/plain/v1/chat/completions") };
</script>`,
    );
    const page = await browser.newPage();
    await page.goto(`${app}/reader`);
    await page.waitForFunction("window.result !== undefined", undefined, { timeout: 20_000 });
    await browser.screenshot(page, "cut-stream-reader");
    // deno-lint-ignore no-explicit-any
    const result = await page.evaluate("window.result") as Record<string, any>;
    for (const name of ["openai", "plain"]) {
      const { status, text, ended } = result[name];
      assert.equal(status, 200);
      assert.match(ended, /TypeError/, `${name}: the reader saw ${ended}`);
      assert.ok(text.includes("Once"), text);
      // the error event came whole before the cut, in the route's shape
      const last = ending({ status, chunks: [text], terminated: false, closed: true }).last;
      assert.deepEqual(
        JSON.parse(last.split("\n").at(-1)!.slice("data: ".length)),
        LAST[name].data,
        `${name}: ${JSON.stringify(text)} then ${ended}`,
      );
    }
  } finally {
    await browser.close();
    await pages.close();
    await gw.close();
    await upstream.close();
  }
});
