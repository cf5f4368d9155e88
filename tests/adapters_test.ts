import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Hono } from "hono";
import { createHandler as expressHandler } from "../src/adapters/express.ts";
import { createHandler as honoHandler } from "../src/adapters/hono.ts";
import { createHandler as nextHandler, createPagesHandler } from "../src/adapters/nextjs.ts";
import { createHandler as remixHandler } from "../src/adapters/remix.ts";
import { createHandler as svelteHandler } from "../src/adapters/svelte.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import type { RequestRecord } from "../mod.ts";

Deno.env.set("KW_ADAPTER_KEY", "sk-server-SECRET");

function config(mock: MockUpstream, path = "/api/openai"): string {
  return `
routes:
  - name: openai
    path: ${path}
    upstream: ${mock.url}
    key: { env: KW_ADAPTER_KEY }
    allow: ["POST /v1/chat/completions", "GET /v1/endless"]
`;
}

const chat = JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] });
const streamed = JSON.stringify({ model: "m", stream: true, messages: [] });

function assertServerKeyOnly(mock: MockUpstream) {
  assert.ok(mock.requests.length > 0, "the upstream was called");
  for (const seen of mock.requests) {
    assert.equal(seen.headers.authorization, "Bearer sk-server-SECRET");
    assert.equal(JSON.stringify(seen.headers).includes("browser-secret"), false);
    assert.equal(seen.headers.cookie, undefined);
  }
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** Reads a streamed body, noting when each chunk arrived. */
async function timedChunks(response: Response): Promise<{ text: string; times: number[] }> {
  const decoder = new TextDecoder();
  let text = "";
  const times: number[] = [];
  for await (const chunk of response.body!) {
    times.push(performance.now());
    text += decoder.decode(chunk, { stream: true });
  }
  return { text, times };
}

Deno.test("express: SSE streams through the adapter event by event, with no body parser", async () => {
  const mock = await startMockUpstream();
  const app = express();
  app.use("/api/openai", expressHandler(config(mock)));
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    const response = await fetch(`${base}/api/openai/v1/chat/completions?spacing=150`, {
      method: "POST",
      headers: { authorization: "Bearer browser-secret", cookie: "session=browser-secret" },
      body: streamed,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const { text, times } = await timedChunks(response);
    assert.match(text, /" mock"/);
    assert.match(text, /data: \[DONE\]/);
    assert.ok(times.at(-1)! - times[0] >= 450, "events arrived as sent, not all at once");
    assertServerKeyOnly(mock);
    assert.equal(mock.requests[0].body, streamed);
  } finally {
    await close(server);
    await mock.close();
  }
});

Deno.test("express: a body already parsed by express.json() is sent on", async () => {
  const mock = await startMockUpstream();
  const app = express();
  app.use(express.json());
  app.use(expressHandler(config(mock)));
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    const response = await fetch(`${base}/api/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chat,
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).choices[0].message.content, "Hello from the mock.");
    assert.deepEqual(JSON.parse(mock.requests[0].body), JSON.parse(chat));
    const denied = await fetch(`${base}/api/openai/v1/files`);
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    assert.equal(mock.requests.length, 1, "the denied call never reached the upstream");
  } finally {
    await close(server);
    await mock.close();
  }
});

Deno.test("express: a client hang-up cancels the upstream stream", async () => {
  const mock = await startMockUpstream();
  const app = express();
  app.use(expressHandler(config(mock)));
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    const controller = new AbortController();
    const response = await fetch(`${base}/api/openai/v1/endless`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    const hungUp = performance.now();
    controller.abort();
    const cancelled = await Promise.race([
      mock.cancelled,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 3000)),
    ]);
    assert.ok(cancelled > 0 && cancelled - hungUp < 1000, "upstream cancelled within a second");
  } finally {
    await close(server);
    await mock.close();
  }
});

Deno.test("hono: an app mounts the gateway under a prefix beside its own routes", async () => {
  const mock = await startMockUpstream();
  const app = new Hono();
  app.get("/", (c) => c.text("home"));
  app.all("/api/*", honoHandler(config(mock)));
  try {
    assert.equal(await (await app.request("/")).text(), "home");
    const response = await app.request("/api/openai/v1/chat/completions", {
      method: "POST",
      headers: { "x-api-key": "browser-secret" },
      body: chat,
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).choices[0].message.content, "Hello from the mock.");
    assertServerKeyOnly(mock);
    assert.equal((await app.request("/api/elsewhere")).status, 404);
  } finally {
    await mock.close();
  }
});

Deno.test("next.js App Router, Remix and SvelteKit handlers serve real Requests", async () => {
  const mock = await startMockUpstream();
  const yaml = config(mock);
  const next = nextHandler(yaml);
  const remix = remixHandler(yaml);
  const svelte = svelteHandler(yaml);
  const post = () =>
    new Request("http://app.local/api/openai/v1/chat/completions", {
      method: "POST",
      headers: { authorization: "Bearer browser-secret", "content-type": "application/json" },
      body: chat,
    });
  try {
    for (const handle of [next.POST, (r: Request) => remix({ request: r })]) {
      const response = await handle(post());
      assert.equal(response.status, 200);
      assert.equal((await response.json()).choices[0].message.content, "Hello from the mock.");
    }
    const url = new URL("http://app.local/api/openai/v1/chat/completions");
    const response = await svelte({
      request: post(),
      url,
      params: { path: "v1/chat/completions" },
    });
    const { text } = await timedChunks(response);
    assert.match(text, /Hello from the mock/);
    const streamedResponse = await next.POST(
      new Request(url, { method: "POST", body: streamed }),
    );
    assert.match(await streamedResponse.text(), /data: \[DONE\]/);
    assert.equal((await next.GET(new Request("http://app.local/api/openai/v1/files"))).status, 403);
    assert.equal(mock.requests.length, 4);
    assertServerKeyOnly(mock);
  } finally {
    await mock.close();
  }
});

Deno.test("next.js Pages Router streams through node req/res", async () => {
  const mock = await startMockUpstream();
  const handler = createPagesHandler(config(mock));
  const server = http.createServer((req, res) => void handler(req, res));
  const base = await listen(server);
  try {
    const response = await fetch(`${base}/api/openai/v1/chat/completions?spacing=100`, {
      method: "POST",
      headers: { authorization: "Bearer browser-secret" },
      body: streamed,
    });
    const { text, times } = await timedChunks(response);
    assert.match(text, /data: \[DONE\]/);
    assert.ok(times.at(-1)! - times[0] >= 300, "events arrived as sent, not all at once");
    assertServerKeyOnly(mock);
  } finally {
    await close(server);
    await mock.close();
  }
});

Deno.test("adapters take the gateway's options and pass the client address their framework gives", async () => {
  const mock = await startMockUpstream();
  const records: RequestRecord[] = [];
  const options = { log: (record: RequestRecord) => void records.push(record) };
  const yaml = config(mock);
  const post = (extra: Record<string, unknown> = {}) =>
    Object.assign(
      new Request("http://app.local/api/openai/v1/chat/completions", {
        method: "POST",
        body: chat,
      }),
      extra,
    );
  try {
    const served = [
      // Next.js 14 and Vercel put the address on the request.
      await nextHandler(yaml, undefined, options).POST(post({ ip: "198.51.100.1" })),
      // Remix: what the server's getLoadContext put in the context.
      await remixHandler(yaml, undefined, options)({
        request: post(),
        context: { clientAddress: "198.51.100.2" },
      }),
      await svelteHandler(yaml, undefined, options)({
        request: post(),
        getClientAddress: () => "198.51.100.3",
      }),
      // Nothing said: one bucket, named as such.
      await remixHandler(yaml, undefined, options)({ request: post() }),
    ];
    for (const response of served) assert.equal(response.status, 200, await response.text());
    assert.deepEqual(records.map((record) => record.client), [
      "198.51.100.1",
      "198.51.100.2",
      "198.51.100.3",
      "unknown",
    ]);
  } finally {
    await mock.close();
  }
});
