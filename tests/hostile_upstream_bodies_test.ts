/**
 * A hostile upstream's response bodies, written byte for byte by a raw TCP peer: error bodies
 * that stall (the route's timeout and the client's hang-up must still govern them), keys
 * echoed in headers and bodies of every status (split over chunks, inside gzip), codings the
 * gateway never offered, event streams broken off mid-event, and streams a client abandons
 * before their usage arrives (they must still be charged). No case may put a key byte in
 * anything the client receives or in any log record.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { PRESETS } from "../src/config/presets/mod.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type RawConnection, type RawUpstream, startRawUpstream } from "./helpers/raw_upstream.ts";

const KEY = "sk-hostile-KEY-0123456789abcdef";
const ENV = { UP_KEY: KEY, OPENAI_API_KEY: KEY };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function route(upstream: string, extra = ""): string {
  return `routes:
  - name: up
    path: /up
    upstream: ${upstream}
    key: { env: UP_KEY }
    allow: ["GET /**", "POST /**"]
    limits: { timeout: 1s }
${extra}`;
}

/** A chunk of chunked transfer coding. */
function chunk(data: string | Uint8Array): Uint8Array {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const head = encoder.encode(`${bytes.length.toString(16)}\r\n`);
  const out = new Uint8Array(head.length + bytes.length + 2);
  out.set(head);
  out.set(bytes, head.length);
  out.set(encoder.encode("\r\n"), head.length + bytes.length);
  return out;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check() && performance.now() < deadline) await sleep(10);
}

/** Rejects when `promise` takes longer than `ms` (a hang is a failure, not a stuck suite). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Every byte the gateway writes for one request, read off a raw socket (no decoding). */
async function rawBytes(
  base: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = [`GET ${target} HTTP/1.1`, `host: ${hostname}:${port}`, "connection: close"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    await conn.write(encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
    const parts: Uint8Array<ArrayBuffer>[] = [];
    const buffer = new Uint8Array(16 * 1024);
    for (let i = 0; i < 10_000; i++) {
      const n = await within(conn.read(buffer), 5000, "raw read");
      if (n === null) break;
      parts.push(buffer.slice(0, n));
    }
    return decoder.decode(await new Blob(parts).arrayBuffer());
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server
    }
  }
}

/** Asserts that no key byte is in what the client got, nor in any log record. */
function assertNoKey(gw: TestGateway, ...received: string[]): void {
  for (const text of received) {
    assert.equal(text.includes(KEY), false, "the key reached the client");
  }
  assert.equal(JSON.stringify(gw.logs).includes(KEY), false, "the key reached a log record");
}

interface Setup extends AsyncDisposable {
  upstream: RawUpstream;
  gw: TestGateway;
}

async function setup(
  script: (conn: RawConnection) => Promise<void>,
  config: (url: string) => string = route,
  env: Record<string, string> = ENV,
): Promise<Setup> {
  const upstream = startRawUpstream(script);
  const gw = await startGateway(config(upstream.url), env);
  return {
    upstream,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

// ---- 4. error bodies under the route's timeout and the client's hang-up ----

Deno.test("a 401 whose chunked body stalls is cut by the route's timeout, the upstream closed, the request logged", async () => {
  const closed = Promise.withResolvers<boolean>();
  await using ctx = await setup(async (conn) => {
    await conn.request();
    await conn.write(
      "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n" +
        "transfer-encoding: chunked\r\n\r\n",
    );
    await conn.write(chunk('{"error":'));
    closed.resolve(await conn.closedByPeer(6000));
  });
  const response = await fetch(`${ctx.gw.url}/up/v1/chat`);
  assert.equal(response.status, 401);
  const started = performance.now();
  await within(assert.rejects(response.text()), 4000, "the 401 body");
  const waited = performance.now() - started;
  assert.ok(waited < 3000, `cut after ${waited} ms`);
  assert.equal(await within(closed.promise, 4000, "upstream close"), true);
  await until(() => ctx.gw.logs.length === 1);
  assert.equal(ctx.gw.logs.length, 1);
  assert.equal(ctx.gw.logs[0].status, 401);
  assert.equal(ctx.gw.logs[0].error, "upstream_silent");
  assertNoKey(ctx.gw);
});

Deno.test("a 500 declaring 2,000,000 bytes that sends 1,000 and stalls is cut, with no key in what passed", async () => {
  const closed = Promise.withResolvers<boolean>();
  await using ctx = await setup(async (conn) => {
    await conn.request();
    const start = `{"error":"bad key ${KEY}","pad":"`;
    const sent = start + "x".repeat(1000 - start.length);
    await conn.write(
      "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n" +
        `content-length: 2000000\r\n\r\n${sent}`,
    );
    closed.resolve(await conn.closedByPeer(6000));
  });
  const response = await fetch(`${ctx.gw.url}/up/v1/chat`);
  assert.equal(response.status, 500);
  const reader = response.body!.getReader();
  let got = "";
  await within(
    assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        got += decoder.decode(value, { stream: true });
      }
    }),
    4000,
    "the 500 body",
  );
  assert.match(got, /bad key \[redacted\]/);
  assert.equal(await within(closed.promise, 4000, "upstream close"), true);
  await until(() => ctx.gw.logs.length === 1);
  assert.equal(ctx.gw.logs[0].error, "upstream_silent");
  assertNoKey(ctx.gw, got);
});

Deno.test("a client hanging up on a stalled error body closes the upstream connection at once", async () => {
  const closed = Promise.withResolvers<number>();
  await using ctx = await setup(
    async (conn) => {
      await conn.request();
      await conn.write(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n" +
          "transfer-encoding: chunked\r\n\r\n",
      );
      await conn.write(chunk('{"error":"busy",'));
      if (await conn.closedByPeer(8000)) closed.resolve(performance.now());
    },
    (url) => route(url).replace("timeout: 1s", "timeout: 30s"),
  );
  const controller = new AbortController();
  const response = await fetch(`${ctx.gw.url}/up/v1/chat`, { signal: controller.signal });
  assert.equal(response.status, 503);
  const reader = response.body!.getReader();
  await reader.read();
  const hungUp = performance.now();
  controller.abort();
  const at = await within(closed.promise, 3000, "upstream close after the hang-up");
  assert.ok(at - hungUp < 1500, `upstream closed ${at - hungUp} ms after the hang-up`);
  await until(() => ctx.gw.logs.length === 1);
  assert.equal(ctx.gw.logs[0].aborted, true);
  assertNoKey(ctx.gw);
});

Deno.test("an error body past the scan cap is cut there, and nothing after it is sent", async () => {
  await using ctx = await setup(async (conn) => {
    await conn.request();
    await conn.write(
      "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n" +
        "transfer-encoding: chunked\r\n\r\n",
    );
    const block = "y".repeat(64 * 1024);
    for (let i = 0; i < 17; i++) if (!await conn.write(chunk(block))) return;
    await conn.write(chunk(`then the key: ${KEY}`));
    await conn.write("0\r\n\r\n");
  });
  const received = await rawBytes(ctx.gw.url, "/up/v1/chat");
  assert.match(received, /^HTTP\/1\.1 500/);
  // The body is cut (no chunked terminator): the client cannot take it for a whole one.
  assert.equal(received.endsWith("0\r\n\r\n"), false);
  await until(() => ctx.gw.logs.length === 1);
  assert.equal(ctx.gw.logs[0].error, "upstream_too_large");
  assertNoKey(ctx.gw, received);
});

// ---- 5. keys echoed in headers and bodies ----

Deno.test("a key echoed in any header of any status is redacted", async () => {
  await using ctx = await setup(async (conn) => {
    const request = await conn.request();
    if (request?.target.includes("ok")) {
      await conn.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-debug-auth: Bearer ${KEY}\r\n` +
          `x-trace: k=${KEY};k2=${KEY}\r\ncontent-length: 2\r\n\r\n{}`,
      );
    } else {
      await conn.write(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n` +
          `www-authenticate: Bearer realm="api", error="invalid_token", token="${KEY}"\r\n` +
          `content-length: 2\r\n\r\n{}`,
      );
    }
  });
  const ok = await fetch(`${ctx.gw.url}/up/v1/ok`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("x-debug-auth"), "Bearer [redacted]");
  assert.equal(ok.headers.get("x-trace"), "k=[redacted];k2=[redacted]");
  await ok.body?.cancel();
  const refused = await fetch(`${ctx.gw.url}/up/v1/no`);
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get("www-authenticate")!, /token="\[redacted\]"/);
  await refused.body?.cancel();
  const raw = await rawBytes(ctx.gw.url, "/up/v1/ok") + await rawBytes(ctx.gw.url, "/up/v1/no");
  await until(() => ctx.gw.logs.length === 4);
  assertNoKey(ctx.gw, raw);
});

Deno.test("a 302 body echoing the key, split over two chunks, is redacted as it streams", async () => {
  await using ctx = await setup(async (conn) => {
    await conn.request();
    const url = `https://app.example/cb?api_key=${KEY}`;
    await conn.write(
      `HTTP/1.1 302 Found\r\nlocation: ${url}\r\ncontent-type: text/plain\r\n` +
        "transfer-encoding: chunked\r\n\r\n",
    );
    const text = `Found. Redirecting to ${url}`;
    const split = text.indexOf(KEY) + 9;
    await conn.write(chunk(text.slice(0, split)));
    await conn.sleep(50);
    await conn.write(chunk(text.slice(split)));
    await conn.write("0\r\n\r\n");
  });
  const response = await fetch(`${ctx.gw.url}/up/v1/login`, { redirect: "manual" });
  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), "https://app.example/cb?api_key=[redacted]");
  const text = await response.text();
  assert.equal(text, "Found. Redirecting to https://app.example/cb?api_key=[redacted]");
  const raw = await rawBytes(ctx.gw.url, "/up/v1/login");
  await until(() => ctx.gw.logs.length === 2);
  assertNoKey(ctx.gw, text, raw);
});

Deno.test("a gzip 429 with the key inside its compressed bytes reaches the client readable and redacted", async () => {
  await using ctx = await setup(async (conn) => {
    await conn.request();
    const body = gzipSync(JSON.stringify({ error: { message: `Rate limited for key ${KEY}` } }));
    const head = "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n" +
      `content-encoding: gzip\r\nretry-after: 3\r\ncontent-length: ${body.length}\r\n\r\n`;
    await conn.write(encoder.encode(head));
    await conn.write(new Uint8Array(body));
  });
  const sdkHeaders = { "accept-encoding": "gzip, deflate, br" };
  const response = await fetch(`${ctx.gw.url}/up/v1/chat`, { headers: sdkHeaders });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), "3");
  const json = await response.json();
  assert.equal(json.error.message, "Rate limited for key [redacted]");
  // The upstream was offered only the codings the gateway can decode.
  assert.equal(ctx.upstream.requests[0].headers["accept-encoding"], "gzip");
  const raw = await rawBytes(ctx.gw.url, "/up/v1/chat", sdkHeaders);
  assert.match(raw, /Rate limited for key \[redacted\]/);
  await until(() => ctx.gw.logs.length === 2);
  assertNoKey(ctx.gw, JSON.stringify(json), raw);
});

Deno.test("a body to be scanned in a coding the gateway never offered is a 502", async () => {
  await using ctx = await setup(async (conn) => {
    await conn.request();
    const body = `opaque bytes holding ${KEY}`;
    await conn.write(
      "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-encoding: br\r\n" +
        `content-length: ${body.length}\r\n\r\n${body}`,
    );
  });
  const response = await fetch(`${ctx.gw.url}/up/v1/chat`, {
    headers: { "accept-encoding": "gzip, br" },
  });
  assert.equal(response.status, 502);
  const json = await response.json();
  assert.equal(json.error.type, "bad_gateway");
  assert.equal(ctx.upstream.requests[0].headers["accept-encoding"], "gzip");
  const raw = await rawBytes(ctx.gw.url, "/up/v1/chat", { "accept-encoding": "br" });
  assert.match(raw, /^HTTP\/1\.1 502/);
  assert.equal(ctx.upstream.requests[1].headers["accept-encoding"], "identity");
  await until(() => ctx.gw.logs.length === 2);
  assertNoKey(ctx.gw, JSON.stringify(json), raw);
});

Deno.test("on a route whose key travels in the query, every body is scanned, 200s and streams too", async () => {
  await using ctx = await setup(
    async (conn) => {
      const request = await conn.request();
      if (request?.target.startsWith("/v1/events")) {
        // an event stream echoing the key split over chunks, ending on what looks like the
        // start of the key (it is not: it must come out whole, once)
        await conn.write(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        await conn.write(chunk(`data: {"url":"${request.target.slice(0, -9)}`));
        await conn.sleep(30);
        await conn.write(chunk(`${request.target.slice(-9)}"}\n\ndata: ${KEY.slice(0, 6)}`));
        await conn.write("0\r\n\r\n");
        return;
      }
      const echo = `{"you_called":"${request?.target}"}`;
      const at = echo.indexOf(KEY) + 5;
      await conn.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
      );
      await conn.write(chunk(echo.slice(0, at)));
      await conn.sleep(30);
      await conn.write(chunk(echo.slice(at)));
      await conn.write("0\r\n\r\n");
    },
    (url) => route(url).replace("key: { env: UP_KEY }", "key: { env: UP_KEY, query: api_key }"),
  );
  const response = await fetch(`${ctx.gw.url}/up/v1/echo?x=1`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.equal(ctx.upstream.requests[0].target, `/v1/echo?x=1&api_key=${KEY}`);
  assert.equal(text, '{"you_called":"/v1/echo?x=1&api_key=[redacted]"}');
  const raw = await rawBytes(ctx.gw.url, "/up/v1/echo");
  const events = await (await fetch(`${ctx.gw.url}/up/v1/events`)).text();
  assert.equal(events, `data: {"url":"/v1/events?api_key=[redacted]"}\n\ndata: ${KEY.slice(0, 6)}`);
  await until(() => ctx.gw.logs.length === 3);
  assertNoKey(ctx.gw, text, raw, events);
});

Deno.test("every preset sends its key in a header, never in the query string", () => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    assert.equal(preset.key.query, undefined, `${name} puts its key in the query`);
    assert.ok(preset.key.header, `${name} names no key header`);
  }
  assert.equal(PRESETS.gemini.key.header, "x-goog-api-key");
});

// ---- 6. a broken event stream ends with an error event, and is then cut ----

const OPENAI_ROUTE = (upstream: string, extra = "") =>
  `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
${extra}`;

function delta(text: string): string {
  return `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"}}]}\n\n`;
}

const CHAT = JSON.stringify({
  model: "gpt-4o-mini",
  stream: true,
  messages: [{ role: "user", content: "Tell me a long story" }],
});

Deno.test("an event stream the upstream breaks off mid-event ends with an SSE error event and a cut, logged and metered", async () => {
  await using ctx = await setup(async (conn) => {
    await conn.request();
    await conn.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    await conn.write(chunk(delta("Once")));
    await conn.write(chunk(delta(" upon")));
    // a chunk that promises 64 bytes, sends part of an event, and the connection dies
    await conn.write('40\r\ndata: {"id":"c1","choi');
    await conn.sleep(20);
  }, (url) => OPENAI_ROUTE(url));
  const response = await fetch(`${ctx.gw.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CHAT,
  });
  assert.equal(response.status, 200);
  // The events that came whole, the error event, and then no clean end: the read fails.
  const reader = response.body!.getReader();
  let text = "";
  await within(
    assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    }),
    4000,
    "the broken stream",
  );
  const events = text.split("\n\n").filter((event) => event !== "");
  assert.equal(events.length, 3, text);
  assert.equal(events[0] + "\n\n", delta("Once"));
  assert.equal(events[1] + "\n\n", delta(" upon"));
  const [type, data] = events[2].split("\n");
  assert.equal(type, "event: error");
  // in OpenAI's error shape, on the openai preset
  const error = JSON.parse(data.slice("data: ".length));
  assert.equal(error.error.type, "server_error");
  assert.equal(error.error.code, "upstream_broken");
  assert.equal(typeof error.error.message, "string");
  await until(() => ctx.gw.logs.length === 1);
  const log = ctx.gw.logs[0];
  assert.equal(log.error, "upstream_broken");
  assert.equal(log.aborted, undefined);
  assert.equal(log.tokens_estimated, true);
  assert.ok(log.tokens!.output >= "Once upon".length, JSON.stringify(log.tokens));
  assert.ok(log.tokens!.input >= 20, JSON.stringify(log.tokens));
  assertNoKey(ctx.gw, text);
});

// ---- issue 15: an abandoned stream is charged ----

Deno.test("OpenAI streams abandoned before their usage event are charged, until the token budget runs out", async () => {
  const streams: Promise<boolean>[] = [];
  await using ctx = await setup(
    async (conn) => {
      if (!await conn.request()) return;
      await conn.write(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
      );
      const gone = Promise.withResolvers<boolean>();
      streams.push(gone.promise);
      // a long answer, one delta every 20 ms; usage would come only in the last event
      for (let i = 0; i < 200; i++) {
        if (!await conn.write(chunk(delta(`word${i} `)))) return gone.resolve(true);
        await conn.sleep(20);
      }
      gone.resolve(false);
    },
    (url) => OPENAI_ROUTE(url, "    limits: { tokens: 500/hour }\n"),
  );
  const abandon = async () => {
    const response = await fetch(`${ctx.gw.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: CHAT,
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return response.status;
    }
    const reader = response.body!.getReader();
    let deltas = 0;
    while (deltas < 2) {
      const { value } = await reader.read();
      deltas += decoder.decode(value).split("\n\n").length - 1;
    }
    await reader.cancel();
    return 200;
  };
  const statuses: number[] = [];
  for (let i = 0; i < 10 && statuses.at(-1) !== 429; i++) {
    statuses.push(await abandon());
    await until(() => ctx.gw.logs.length === statuses.length);
  }
  // each abandoned stream is charged the larger of its estimate (its request body and the text
  // that passed) and its reservation (the body plus the default clamp of 125, a quarter of 500),
  // which is the larger here: one fits in the budget, the second does not
  assert.equal(statuses.at(-1), 429, `statuses ${statuses}`);
  assert.ok(statuses.length >= 2 && statuses.length <= 6, `statuses ${statuses}`);
  const charged = ctx.gw.logs.filter((log) => log.status === 200);
  for (const log of charged) {
    assert.equal(log.aborted, true);
    assert.equal(log.tokens_estimated, true);
    assert.ok(log.tokens!.input >= CHAT.length, JSON.stringify(log.tokens));
    assert.ok(log.tokens!.output >= "word0 word1 ".length, JSON.stringify(log.tokens));
  }
  // every abandoned stream's upstream request was cancelled too
  assert.deepEqual(
    await within(Promise.all(streams), 4000, "upstream cancels"),
    charged.map(() => true),
  );
  assertNoKey(ctx.gw);
});

Deno.test("a client hanging up before the answer is charged its input", async () => {
  await using ctx = await setup(
    async (conn) => {
      if (!await conn.request()) return;
      await conn.closedByPeer(6000); // never answers
    },
    (url) => OPENAI_ROUTE(url, "    limits: { tokens: 500/hour }\n"),
  );
  const controller = new AbortController();
  const pending = fetch(`${ctx.gw.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CHAT,
    signal: controller.signal,
  });
  await sleep(200);
  controller.abort();
  await assert.rejects(pending);
  await until(() => ctx.gw.logs.length === 1, 4000);
  const log = ctx.gw.logs[0];
  assert.equal(log.aborted, true);
  assert.equal(log.tokens_estimated, true);
  assert.ok(log.tokens!.input >= CHAT.length, JSON.stringify(log.tokens));
  assert.equal(log.tokens!.total, log.tokens!.input);
});

// ---- key pools: a streamed refusal is dropped quietly and the request retried ----

Deno.test("a streamed 401 on a key pool is retried on the next key, logged once", async () => {
  await using ctx = await setup(
    async (conn) => {
      for (;;) {
        const request = await conn.request();
        if (!request) return;
        if (request.headers.authorization === "Bearer sk-pool-one") {
          await conn.write(
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n" +
              "transfer-encoding: chunked\r\n\r\n",
          );
          await conn.write(chunk('{"error":"revoked sk-pool-one"}'));
          await conn.write("0\r\n\r\n");
        } else {
          await conn.write(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
          );
        }
      }
    },
    (url) =>
      route(url).replace(
        "key: { env: UP_KEY }",
        "key: { pool: [{ env: POOL_ONE }, { env: POOL_TWO }] }",
      ),
    { POOL_ONE: "sk-pool-one", POOL_TWO: "sk-pool-two" },
  );
  const statuses: number[] = [];
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${ctx.gw.url}/up/v1/chat`, { method: "POST", body: "{}" });
    statuses.push(response.status);
    await response.text();
  }
  assert.deepEqual(statuses, [200, 200]);
  await until(() => ctx.gw.logs.length === 2);
  await sleep(50);
  assert.equal(ctx.gw.logs.length, 2);
  for (const log of ctx.gw.logs) {
    assert.equal(log.status, 200);
    assert.equal(log.error, undefined);
    assert.equal(log.aborted, undefined);
  }
  assert.equal(ctx.gw.logs.filter((log) => log.retried).length, 1);
  assert.equal(JSON.stringify(ctx.gw.logs).includes("sk-pool"), false);
});

// ---- hang-ups, whichever way the server's request.signal behaves ----

/** Starts the standalone server with extra runtime flags; its log lines are collected. */
async function serveWith(flags: string[], yaml: string) {
  const dir = await Deno.makeTempDir({ prefix: "keyward-flight-" });
  await Deno.writeTextFile(`${dir}/routes.yaml`, yaml);
  const main = new URL("../main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, main, "serve", "--config", `${dir}/routes.yaml`, "--port", "0"],
    env: { ...ENV, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  let port = 0;
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      pending += text;
      for (let at = pending.indexOf("\n"); at !== -1; at = pending.indexOf("\n")) {
        const line = pending.slice(0, at);
        pending = pending.slice(at + 1);
        try {
          const record = JSON.parse(line);
          if (record.event === "listening") port = record.port;
          else if (record.method) logs.push(record);
        } catch {
          // a runtime notice
        }
      }
    }
  };
  const done = Promise.all([read(child.stdout), read(child.stderr)]);
  await until(() => port !== 0, 20_000);
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await done;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

for (const flags of [[], ["--unstable-no-legacy-abort"]]) {
  const mode = flags.length ? "request.signal aborts on hang-ups only" : "legacy request.signal";
  Deno.test(`${mode}: a late answer is delivered whole; hang-ups while waiting and mid-body cancel the upstream`, async () => {
    const closed: Promise<number>[] = [];
    const upstream = startRawUpstream(async (conn) => {
      const request = await conn.request();
      const gone = Promise.withResolvers<number>();
      closed.push(gone.promise);
      if (request?.target.startsWith("/v1/wait")) {
        // Silent for 3 s: the client's hang-up must end this call before it is ever answered
        // (when it has not, the call ends at -1 and is answered, as a late upstream would).
        if (await conn.closedByPeer(3000)) return gone.resolve(performance.now());
        gone.resolve(-1);
        await conn.write(
          "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n" +
            "content-length: 2\r\n\r\n{}",
        );
        return await conn.sleep(1000);
      }
      // Past the watchdog's first check, so the flight listens for a hang-up while it waits.
      await conn.sleep(1300);
      if (request?.target.startsWith("/v1/late")) {
        await conn.write(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n" +
            "transfer-encoding: chunked\r\n\r\n",
        );
        await conn.write(chunk("data: 1\n\n"));
        await conn.sleep(100);
        await conn.write(chunk("data: 2\n\n"));
        await conn.write("0\r\n\r\n");
        return;
      }
      await conn.write(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n" +
          "transfer-encoding: chunked\r\n\r\n",
      );
      await conn.write(chunk('{"error":'));
      if (await conn.closedByPeer(8000)) gone.resolve(performance.now());
    });
    const gw = await serveWith(flags, route(upstream.url).replace("timeout: 1s", "timeout: 30s"));
    try {
      const late = await fetch(`${gw.url}/up/v1/late`);
      assert.equal(await late.text(), "data: 1\n\ndata: 2\n\n");
      // hang up while the upstream is still silent
      const waiting = new AbortController();
      const pending = fetch(`${gw.url}/up/v1/wait`, { signal: waiting.signal });
      await sleep(300);
      const hungUpWaiting = performance.now();
      waiting.abort();
      await assert.rejects(pending);
      await until(() => closed.length === 2);
      const cancelled = await within(closed[1], 5000, "upstream close after the hang-up");
      assert.ok(cancelled > 0, "the upstream call outlived the client's hang-up and was answered");
      assert.ok(
        cancelled - hungUpWaiting < 2000,
        `closed ${cancelled - hungUpWaiting} ms after the hang-up`,
      );
      // hang up in the middle of an error body
      const reading = new AbortController();
      const error = await fetch(`${gw.url}/up/v1/error`, { signal: reading.signal });
      assert.equal(error.status, 500);
      await error.body!.getReader().read();
      const hungUp = performance.now();
      reading.abort();
      await until(() => closed.length === 3);
      const at = await within(closed[2], 3000, "upstream close after the mid-body hang-up");
      assert.ok(at - hungUp < 1500, `closed ${at - hungUp} ms after the hang-up`);
      await until(() => gw.logs.length === 3, 5000);
      const [first, second, third] = gw.logs;
      assert.equal(first.status, 200);
      assert.equal(first.aborted, undefined);
      assert.equal(first.error, undefined);
      assert.equal(first.bytes_out, 18);
      assert.equal(second.aborted, true);
      assert.equal(third.aborted, true);
      assert.equal(upstream.requests.length, 3);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });
}
