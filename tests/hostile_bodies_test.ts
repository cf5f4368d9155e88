/**
 * Hostile request bodies on a route with body rules, which must hold a body whole to read
 * it: a crowd of large bodies under a small heap, bodies past the cap, bodies that hang up,
 * repeated keys. The gateway stays up, answers 413 or 503 with `Retry-After`, keeps serving
 * everyone else, and gives back every byte it held.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startGatewayProcess } from "./helpers/process.ts";
import { serveLoopback } from "./helpers/serve.ts";

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

/** A JSON chat body of about `bytes` bytes. */
function chatBody(bytes: number, extra: Record<string, unknown> = {}): Uint8Array<ArrayBuffer> {
  const padding = "x".repeat(Math.max(0, bytes - 120));
  return encoder.encode(JSON.stringify({
    model: "gpt-4o-mini",
    max_tokens: 5000,
    ...extra,
    messages: [{ role: "user", content: padding }],
  }));
}

/** An upstream that reads every body to its end and answers with its length and model. */
async function drainingUpstream(hold?: Promise<void>) {
  const received: { bytes: number; body?: string }[] = [];
  const server = await serveLoopback(async (request) => {
    const body = request.body ? await request.bytes() : new Uint8Array();
    const record: { bytes: number; body?: string } = { bytes: body.byteLength };
    if (body.byteLength < 4 * MiB) record.body = new TextDecoder().decode(body);
    received.push(record);
    if (hold) await hold;
    return Response.json({ bytes: body.byteLength });
  });
  return { ...server, received };
}

const post = (url: string, body: BodyInit, type = "application/json") =>
  fetch(url, { method: "POST", headers: { "content-type": type }, body });

Deno.test({
  name: "200 concurrent 2 MB bodies on a rules route under a 128 MB heap: the process stays up",
  // The gateway is a child process; its streams are read by the helper until it stops.
  sanitizeResources: false,
  async fn() {
    const upstream = await drainingUpstream();
    const gateway = await startGatewayProcess(
      `server:
  body_memory: 48mb
routes:
  - name: rules
    path: /rules
    upstream: ${upstream.url}
    allow: ["POST /**"]
    body: { models: [gpt-4o-mini], max_tokens: 256 }
  - name: whole
    path: /whole
    upstream: ${upstream.url}
    allow: ["POST /**"]
    limits: { body: 48mb }
    body: { models: [gpt-4o-mini] }
  - name: plain
    path: /plain
    upstream: ${upstream.url}
    allow: ["GET /**", "POST /**"]
`,
      {},
      [],
      ["--v8-flags=--max-old-space-size=128"],
    );
    try {
      const large = chatBody(2 * MiB);
      const statuses = new Map<number | string, number>();
      const count = (key: number | string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
      let retryAfter = true;
      const burst = Array.from({ length: 200 }, async (_, i) => {
        try {
          // One in ten is past the route's 4 MiB default cap for bodies the rules read.
          const body = i % 10 === 0 ? chatBody(5 * MiB) : large;
          const response = await post(`${gateway.url}/rules/v1/chat/completions`, body);
          if (response.status === 503) retryAfter &&= response.headers.get("retry-after") === "1";
          await response.body?.cancel();
          count(response.status);
        } catch (error) {
          count((error as Error).name);
        }
      });
      // Everyone else is still served while the burst runs.
      const others: number[] = [];
      const small = (async () => {
        for (let i = 0; i < 20; i++) {
          const plain = await fetch(`${gateway.url}/plain/ping`);
          await plain.body?.cancel();
          const ruled = await post(`${gateway.url}/rules/v1/chat/completions`, chatBody(200));
          await ruled.body?.cancel();
          others.push(plain.status, ruled.status);
        }
      })();
      await Promise.all([...burst, small]);

      assert.deepEqual(
        [...statuses.keys()].filter((s) => s !== 200 && s !== 413 && s !== 503),
        [],
        `every large body got 200, 413 or 503: ${JSON.stringify([...statuses])}`,
      );
      assert.equal(statuses.get(413), 20, "bodies past the default cap are refused");
      assert.ok((statuses.get(200) ?? 0) > 0, "large bodies that fit are served");
      assert.ok(retryAfter, "a 503 asks the client to retry");
      assert.ok(others.every((s) => s === 200), `small requests: ${others}`);

      // Four million brackets: refused for their depth, at no cost per bracket.
      const depth = 2 * MiB - 64;
      const deep = await post(
        `${gateway.url}/rules/v1/chat/completions`,
        `{"model":"gpt-4o-mini","messages":${"[".repeat(depth)}${"]".repeat(depth)}}`,
      );
      assert.equal(deep.status, 400);
      assert.match((await deep.json()).error.message, /nests deeper than/);

      // No byte stays held: one body the size of the whole budget is served.
      const whole = await post(`${gateway.url}/whole/v1/x`, chatBody(48 * MiB - 64));
      assert.equal(whole.status, 200, await whole.text());
      const health = await fetch(`${gateway.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const fatal = gateway.events.find((e) => String(e.text ?? "").includes("out of memory"));
      assert.equal(fatal, undefined);
    } finally {
      const status = await gateway.stop();
      await upstream.close();
      assert.ok(status.success, `the gateway was alive until stopped: ${JSON.stringify(status)}`);
    }
  },
});

Deno.test("the body budget: 503 with Retry-After while held, every byte given back on every path", async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => release = resolve);
  const upstream = await drainingUpstream(hold);
  const gateway = await startGateway(`server:
  body_memory: 8mb
routes:
  - name: rules
    path: /rules
    upstream: ${upstream.url}
    allow: ["POST /**"]
    limits: { body: 8mb, timeout: 10s }
    body: { models: [gpt-4o-mini], max_tokens: 256 }
`);
  const url = `${gateway.url}/rules/v1/chat/completions`;
  try {
    // One 5 MB body is held while the upstream thinks; a second does not fit beside it.
    const first = post(url, chatBody(5 * MiB));
    while (upstream.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await post(url, chatBody(5 * MiB));
    assert.equal(second.status, 503);
    assert.equal(second.headers.get("retry-after"), "1");
    assert.equal((await second.json()).error.type, "server_busy");
    // A chunked body is held as it comes, and refused the moment it does not fit.
    const chunked = await post(url, ReadableStream.from([chatBody(2 * MiB), chatBody(2 * MiB)]));
    assert.equal(chunked.status, 503);
    await chunked.body?.cancel();
    release();
    assert.equal((await first).status, 200);

    // Refusals of every kind, and clients that hang up mid-body.
    const refusals: [BodyInit, number][] = [
      [encoder.encode('{"model":"gpt-4o-mini","max_tokens":1,"model":"gpt-4o"}'), 400],
      [encoder.encode(`{"model":"gpt-4o-mini","messages":[${"1,".repeat(MiB)}]`), 400],
      [chatBody(MiB, { model: "gpt-4o" }), 403],
      // Past both the route's cap and the whole budget (8 MiB each here): its bytes are
      // given back too. Which of the two refuses a body is told apart in the tests below.
      [ReadableStream.from(Array.from({ length: 9 }, () => new Uint8Array(MiB))), 413],
    ];
    for (const [body, status] of refusals) {
      const response = await post(url, body);
      assert.equal(response.status, status, await response.text());
    }
    for (let i = 0; i < 4; i++) await hangUp(url, 2 * MiB, MiB);
    // The gateway notices each hang-up (its log line) before the budget is checked again.
    const deadline = Date.now() + 5000;
    while (gateway.logs.filter((l) => l.error === "body_unreadable").length < 4) {
      assert.ok(
        Date.now() < deadline,
        `the hang-ups are noticed: ${JSON.stringify(gateway.logs.slice(-5))}`,
      );
      await new Promise((r) => setTimeout(r, 10));
    }

    // Every byte is back: a body the size of the whole budget fits.
    const whole = await post(url, chatBody(8 * MiB - 64));
    assert.equal(whole.status, 200, await whole.text());
  } finally {
    release();
    await gateway.close();
    await upstream.close();
  }
});

/** `bytes` sent chunked (no Content-Length), a MiB at a time. */
function chunked(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  return ReadableStream.from(
    Array.from(
      { length: Math.ceil(bytes.byteLength / MiB) },
      (_, i) => bytes.subarray(i * MiB, (i + 1) * MiB),
    ),
  );
}

/** A body of `bytes`, one with its length declared and one chunked, by name. */
const sent = (bytes: number): [string, () => BodyInit][] => [
  ["declared", () => chatBody(bytes)],
  ["chunked", () => chunked(chatBody(bytes))],
];

Deno.test("a 9 MiB body past the route's 8 MiB cap, with room in the body memory: 413 naming the cap", async () => {
  const upstream = await drainingUpstream();
  // The body memory is the default 64 MiB: only the route's cap can refuse 9 MiB.
  const gateway = await startGateway(`routes:
  - name: rules
    path: /rules
    upstream: ${upstream.url}
    allow: ["POST /**"]
    limits: { body: 8mb }
    body: { models: [gpt-4o-mini], max_tokens: 256 }
`);
  const url = `${gateway.url}/rules/v1/chat/completions`;
  try {
    for (const [what, body] of sent(9 * MiB)) {
      const response = await post(url, body());
      assert.equal(response.status, 413, what);
      assert.deepEqual((await response.json()).error, {
        type: "payload_too_large",
        message: `The request body is larger than ${8 * MiB} bytes`,
      }, what);
    }
    assert.equal(upstream.received.length, 0, "nothing past the cap left");
    const fits = await post(url, chatBody(8 * MiB - 64));
    assert.equal(fits.status, 200, await fits.text());
  } finally {
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("a 9 MiB body within the route's cap but not beside a held 5 MiB one: 503 with Retry-After, then served", async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => release = resolve);
  const upstream = await drainingUpstream(hold);
  // 9 MiB is within the cap (10 MiB) and the body memory (12 MiB), but not beside 5 MiB.
  const gateway = await startGateway(`server:
  body_memory: 12mb
routes:
  - name: rules
    path: /rules
    upstream: ${upstream.url}
    allow: ["POST /**"]
    limits: { body: 10mb, timeout: 10s }
    body: { models: [gpt-4o-mini], max_tokens: 256 }
`);
  const url = `${gateway.url}/rules/v1/chat/completions`;
  try {
    const held = post(url, chatBody(5 * MiB));
    while (upstream.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    for (const [what, body] of sent(9 * MiB)) {
      const response = await post(url, body());
      assert.equal(response.status, 503, what);
      assert.equal(response.headers.get("retry-after"), "1", what);
      assert.equal((await response.json()).error.type, "server_busy", what);
    }
    assert.equal(upstream.received.length, 1, "the refused bodies never left");
    release();
    assert.equal((await held).status, 200);
    // The memory is free again, and the cap never stood in the way.
    for (const [what, body] of sent(9 * MiB)) {
      const response = await post(url, body());
      assert.equal(response.status, 200, `${what}: ${await response.text()}`);
    }
    assert.deepEqual(upstream.received.map((r) => r.bytes > 9 * MiB - 4096), [false, true, true]);
  } finally {
    release();
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("a body larger than the whole body memory, within the route's default cap: 413 naming the memory", async () => {
  const upstream = await drainingUpstream();
  // No limits.body: a body the rules read may be 4 MiB; the gateway holds 2 MiB in all.
  const gateway = await startGateway(`server:
  body_memory: 2mb
routes:
  - name: rules
    path: /rules
    upstream: ${upstream.url}
    allow: ["POST /**"]
    body: { models: [gpt-4o-mini], max_tokens: 256 }
`);
  const url = `${gateway.url}/rules/v1/chat/completions`;
  try {
    const memory = `the ${2 * MiB} bytes this gateway holds for body rules`;
    for (const [what, body] of sent(3 * MiB)) {
      const response = await post(url, body());
      assert.equal(response.status, 413, what);
      assert.deepEqual((await response.json()).error, {
        type: "payload_too_large",
        message: `The request body is larger than ${memory}`,
      }, what);
    }
    assert.equal(upstream.received.length, 0);
    const fits = await post(url, chatBody(MiB));
    assert.equal(fits.status, 200, await fits.text());
  } finally {
    await gateway.close();
    await upstream.close();
  }
});

/** Sends a head declaring `declared` bytes, then `sent` of them, then closes the socket. */
async function hangUp(url: string, declared: number, sent: number): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(encoder.encode(
      `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
        `content-length: ${declared}\r\n\r\n`,
    ));
    await conn.write(chatBody(declared).subarray(0, sent));
  } finally {
    conn.close();
  }
}

Deno.test("rules edit a large body in place: the prompt's bytes reach the upstream untouched", async () => {
  const upstream = await drainingUpstream();
  const gateway = await startGateway(`routes:
  - name: rules
    path: /rules
    upstream: ${upstream.url}
    allow: ["POST /**"]
    body: { models: [gpt-4o-mini], max_tokens: 256 }
`);
  try {
    // Escapes and characters a re-encoding would spell differently.
    const prompt = `{"model" : "gpt-4o-mini", "max_tokens" : 9000, "messages" : [{"role":"user",` +
      `"content":"caf\\u00e9 \\/ é ${"y".repeat(2 * MiB)}"}]}`;
    const response = await post(`${gateway.url}/rules/v1/chat/completions`, prompt);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const sent = upstream.received[0].body!;
    // The clamp is written over the old value, padded with a space JSON ignores.
    assert.equal(sent, prompt.replace('"max_tokens" : 9000', '"max_tokens" : 256 '));

    // Two "model" keys: JSON.parse would take the last, an upstream may take the first.
    const twice = await post(
      `${gateway.url}/rules/v1/chat/completions`,
      '{"model":"gpt-4o","messages":[],"model":"gpt-4o-mini"}',
    );
    assert.equal(twice.status, 400);
    assert.match((await twice.json()).error.message, /repeats the key "model"/);
    assert.equal(upstream.received.length, 1, "the refused body never left");
  } finally {
    await gateway.close();
    await upstream.close();
  }
});
