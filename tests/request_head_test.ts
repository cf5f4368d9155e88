/**
 * Request heads held to HTTP/1.1, on raw sockets: the standalone server answers a request that
 * names no host with 400 (RFC 9112 §3.2; heads ending in bare LF included), header names with
 * an underscore never reach the upstream (nginx's `underscores_in_headers off`: a backend that
 * maps `_` to `-` would read `Transfer_Encoding` as framing), and a body the rules read is
 * never sent under a `Content-Encoding` that does not describe the bytes that go.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { serve } from "../src/server.ts";
import type { RequestRecord } from "../src/observe/log.ts";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function config(upstream: string): string {
  return `routes:
  - name: up
    path: /up
    upstream: ${upstream}
    key: { env: UP_KEY }
    allow: ["GET /**", "POST /**"]
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
    key: { env: UP_KEY }
    body: { max_tokens: 100 }
`;
}

/** Writes `head` (and `body`) as they are and reads the whole answer, the server closing. */
async function exchange(port: number, head: string, body: Uint8Array = new Uint8Array()) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new Uint8Array([...encoder.encode(head), ...body]);
  await conn.write(bytes);
  let text = "";
  const buffer = new Uint8Array(16 * 1024);
  const timer = setTimeout(() => conn.close(), 3000);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
      // one answer is all these tests read
      if (/\r\n\r\n/.test(text) && /\r\n\r\n[\s\S]*\}$/.test(text)) break;
    }
  } catch {
    // closed by the timer or the server
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text };
}

Deno.test("the standalone server answers a request that names no host with 400, never forwarding it", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "keyward-head-" });
  const configPath = `${dir}/routes.yaml`;
  await Deno.writeTextFile(configPath, config(mock.url));
  const logs: RequestRecord[] = [];
  const server = await serve({
    configPath,
    port: 0,
    hostname: "127.0.0.1",
    watch: false,
    signals: false,
    log: (record) => logs.push(structuredClone(record)),
    readers: { env: () => "sk-up" },
  });
  const port = server.addr.port;
  try {
    const hostless = [
      "GET /up/v1/models HTTP/1.1\r\nconnection: close\r\n\r\n",
      // a head ending in bare LF: the parser takes it, and there is no Host in it either
      "GET /up/v1/models HTTP/1.1\nconnection: close\n\n",
      "GET /up/v1/models HTTP/1.1\r\nhost:\r\nconnection: close\r\n\r\n",
      "GET /up/v1/models HTTP/1.0\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n",
    ];
    for (const head of hostless) {
      const { status, text } = await exchange(port, head);
      assert.equal(status, 400, `${JSON.stringify(head)}\n${text}`);
      assert.match(text, /"error":\{"type":"invalid_request","message":"[^"]*[Hh]ost/);
    }
    assert.equal(mock.requests.length, 0, "nothing without a host went upstream");
    assert.ok(logs.some((log) => log.error === "no_host"), JSON.stringify(logs.at(-1)));

    const named = await exchange(
      port,
      `GET /up/v1/models HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`,
    );
    assert.equal(named.status, 200, named.text);
    const http10 = await exchange(port, `GET /up/v1/models HTTP/1.0\r\nhost: gw.example\r\n\r\n`);
    assert.equal(http10.status, 200, http10.text);
    assert.equal(mock.requests.length, 2);
  } finally {
    await server.shutdown();
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("header names with an underscore never reach the upstream", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(config(mock.url), { UP_KEY: "sk-up" });
  try {
    const port = Number(new URL(gw.url).port);
    const body = '{"a":1}';
    const head = [
      "POST /up/v1/things HTTP/1.1",
      `host: 127.0.0.1:${port}`,
      "content-type: application/json",
      `content-length: ${body.length}`,
      "Transfer_Encoding: chunked",
      "Content_Length: 0",
      "X_Forwarded_For: 10.0.0.1",
      "X_Api_Key: client-key",
      "x-kept: yes",
      "connection: close",
    ].join("\r\n") + "\r\n\r\n";
    const { status, text } = await exchange(port, head, encoder.encode(body));
    assert.equal(status, 200, text);
    const seen = mock.requests[0].headers;
    assert.deepEqual(
      Object.keys(seen).filter((name) => name.includes("_")),
      [],
      JSON.stringify(seen),
    );
    assert.equal(seen["x-kept"], "yes");
    assert.equal(mock.requests[0].body, body);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("a body the rules read is never forwarded under a content coding it does not have", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(config(mock.url), { UP_KEY: "sk-up" });
  try {
    const chat = JSON.stringify({
      model: "gpt-4o-mini",
      max_tokens: 5000,
      messages: [{ role: "user", content: "hi" }],
    });
    const post = (path: string, body: BodyInit, coding: string) =>
      fetch(`${gw.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": coding },
        body,
      });
    // Plain JSON labelled gzip: the rules could read it, but whatever they sent on would be
    // labelled with a coding the bytes do not have.
    for (const coding of ["gzip", "br", "deflate", "gzip, identity", "x-custom"]) {
      const lied = await post("/openai/v1/chat/completions", chat, coding);
      assert.equal(lied.status, 400, coding);
      assert.equal((await lied.json()).error.type, "invalid_request");
    }
    // Real gzip: not readable as JSON by the rules, refused the same way.
    const zipped = await post("/openai/v1/chat/completions", gzipSync(chat), "gzip");
    assert.equal(zipped.status, 400);
    await zipped.body?.cancel();
    assert.equal(mock.requests.length, 0, "nothing went upstream");
    assert.ok(gw.logs.every((log) => log.error === "body_coding"), JSON.stringify(gw.logs));

    // identity is no coding at all: read, clamped, sent without the header's help
    const plain = await post("/openai/v1/chat/completions", chat, "identity");
    assert.equal(plain.status, 200);
    await plain.body?.cancel();
    assert.equal(JSON.parse(mock.requests[0].body).max_tokens, 100);

    // A route that does not read bodies passes the client's coding with the client's bytes.
    const bytes = gzipSync('{"a":1}');
    const passed = await post("/up/v1/upload", bytes, "gzip");
    assert.equal(passed.status, 200);
    await passed.body?.cancel();
    const sent = mock.requests[1];
    assert.equal(sent.headers["content-encoding"], "gzip");
    assert.equal(sent.body, decoder.decode(bytes));
  } finally {
    await gw.close();
    await mock.close();
  }
});
