/**
 * Limits per client and route, end to end through a real gateway and upstream: request
 * budgets with their headers, requests in flight, per-client overrides, token budgets charged
 * from a streamed response, and body caps counted on the wire.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

const ENV = { OPENAI_API_KEY: "sk-server" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openai(upstream: string, extra: string): string {
  return `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
${extra}`;
}

async function status(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

Deno.test("limits.requests: N per window, RateLimit-* headers, then 429 with Retry-After", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(openai(mock.url, "    limits: { requests: 3/min }\n"), ENV);
  try {
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gateway.url}/openai/v1/models`);
      assert.equal(await status(response), 200);
      assert.equal(response.headers.get("ratelimit-limit"), "3");
      assert.equal(response.headers.get("ratelimit-policy"), "3;w=60");
      remaining.push(response.headers.get("ratelimit-remaining"));
    }
    assert.deepEqual(remaining, ["2", "1", "0"]);
    const limited = await fetch(`${gateway.url}/openai/v1/models`);
    assert.equal(limited.status, 429);
    assert.equal((await limited.json()).error.type, "rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.equal(limited.headers.get("ratelimit-remaining"), "0");
    assert.equal(mock.requests.length, 3);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("limits.concurrent: in-flight requests past the cap get 429 until one ends", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    upstream: ${mock.url}
    allow: ["GET /**"]
    limits: { concurrent: 2 }
`,
  );
  try {
    const streams = [
      await fetch(`${gateway.url}/openai/v1/endless`),
      await fetch(`${gateway.url}/openai/v1/endless`),
    ];
    assert.deepEqual(streams.map((s) => s.status), [200, 200]);
    const third = await fetch(`${gateway.url}/openai/v1/models`);
    assert.equal(await status(third), 429);
    assert.equal(third.headers.get("retry-after"), "1");
    await streams[0].body!.cancel();
    let after = 0;
    for (let i = 0; i < 50 && after !== 200; i++) {
      await sleep(20);
      after = await status(await fetch(`${gateway.url}/openai/v1/models`));
    }
    assert.equal(after, 200, "a slot comes back when a stream ends");
    await streams[1].body!.cancel();
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("clients' own limits override the route's for them only", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `clients:
  - { id: alice, token: alice-token, limits: { requests: 1/min } }
  - { id: bob, token: bob-token }
` + openai(mock.url, "    auth: token\n    limits: { requests: 3/min }\n"),
    ENV,
  );
  const call = async (token: string) =>
    await status(
      await fetch(`${gateway.url}/openai/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
  try {
    assert.deepEqual([await call("alice-token"), await call("alice-token")], [200, 429]);
    assert.deepEqual(
      [
        await call("bob-token"),
        await call("bob-token"),
        await call("bob-token"),
        await call("bob-token"),
      ],
      [200, 200, 200, 429],
    );
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("limits.route: a client hammering past its own limit spends none of the route's ceiling", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `clients:
  - { id: alice, token: alice-token }
  - { id: bob, token: bob-token }
` + openai(
        mock.url,
        "    auth: token\n    limits: { requests: 2/min, route: { requests: 3/min } }\n",
      ),
    ENV,
  );
  const call = async (token: string) =>
    await status(
      await fetch(`${gateway.url}/openai/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
  try {
    const alice: number[] = [];
    for (let i = 0; i < 6; i++) alice.push(await call("alice-token"));
    assert.deepEqual(alice, [200, 200, 429, 429, 429, 429]);
    // Alice's refused requests took nothing from the route's 3: bob gets the third.
    assert.deepEqual([await call("bob-token"), await call("bob-token")], [200, 429]);
    assert.equal(mock.requests.length, 3);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("limits.tokens: a stream's reservation settles to its usage when it ends, without holding a byte back", async () => {
  const mock = await startMockUpstream();
  // Each request reserves its prompt as counted plus the clamp of 100 (about 110 tokens), so
  // without settling the fourth would not fit in 400. Each streamed answer reports 10.
  const gateway = await startGateway(
    openai(mock.url, "    limits: { tokens: 400/hour }\n    body: { max_tokens: 100 }\n"),
    ENV,
  );
  const stream = () =>
    fetch(`${gateway.url}/openai/v1/chat/completions?spacing=5`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [] }),
    });
  try {
    for (let i = 0; i < 3; i++) {
      const response = await stream();
      assert.equal(response.status, 200, `request ${i + 1}`);
      const text = await response.text();
      assert.match(text, /"total_tokens":10/);
      assert.match(text, /\[DONE\]/);
      await sleep(30);
    }
    // The client's stream did not ask for usage; the gateway did, so the budget can count.
    const sent = JSON.parse(mock.requests[0].body);
    assert.deepEqual(sent.stream_options, { include_usage: true });
    assert.equal(sent.max_completion_tokens, 100);
    assert.deepEqual(gateway.logs.slice(0, 3).map((l) => l.tokens?.total), [10, 10, 10]);
    // A request whose worst case does not fit is refused before the upstream: 300 words of
    // two tokens each and the clamp of 100 are more than the 370 left.
    const words = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
    const big = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: words }] }),
    });
    assert.equal(big.status, 429);
    assert.ok(Number(big.headers.get("retry-after")) >= 1);
    assert.match((await big.json()).error.message, /Token budget/);
    assert.equal(mock.requests.length, 3);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("limits.body: a declared length past the cap is refused before the upstream is called", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(openai(mock.url, "    limits: { body: 1kb }\n"), ENV);
  try {
    const big = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(2048),
    });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.type, "payload_too_large");
    const small = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    assert.equal(await status(small), 200);
    assert.equal(mock.requests.length, 1);
    // A body passed on as sent keeps its declared length (a fixed-length upload, not chunked).
    assert.equal(mock.requests[0].headers["content-length"], String(mock.requests[0].body.length));
    assert.equal(mock.requests[0].headers["transfer-encoding"], undefined);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("limits.body: a chunked upload is cut at the cap with 413, and the upstream request is aborted", async () => {
  const upload = { bytes: 0, aborted: Promise.withResolvers<string>() };
  const upstream = await serveLoopback(async (request) => {
    try {
      for await (const chunk of request.body!) upload.bytes += chunk.byteLength;
      upload.aborted.resolve("completed");
    } catch (error) {
      upload.aborted.resolve(`aborted: ${(error as Error).name}`);
    }
    return Response.json({ received: upload.bytes });
  });
  const gateway = await startGateway(
    `routes:
  - name: files
    path: /files
    upstream: ${upstream.url}
    allow: ["POST /upload"]
    limits: { body: 64kb }
`,
  );
  const chunk = new Uint8Array(16 * 1024);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= 1024 * 1024) return controller.close();
      await sleep(2);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  try {
    const response = await fetch(`${gateway.url}/files/upload`, {
      method: "POST",
      body,
      // @ts-ignore: streamed request bodies need duplex
      duplex: "half",
    });
    assert.equal(response.status, 413);
    assert.equal((await response.json()).error.type, "payload_too_large");
    assert.match(await upload.aborted.promise, /^aborted/);
    assert.ok(upload.bytes <= 64 * 1024, `the upstream got ${upload.bytes} bytes`);
    assert.ok(sent < 1024 * 1024, "the client was stopped well before its 1 MiB");
  } finally {
    await gateway.close();
    await upstream.close();
  }
});

/** A JSON chat body of `bytes` bytes, sent chunked (no Content-Length) in 16 KiB pieces. */
function chunkedChat(bytes: number): ReadableStream<Uint8Array> {
  const head = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"';
  const tail = '"}]}';
  const text = new TextEncoder().encode(
    head + "x".repeat(bytes - head.length - tail.length) + tail,
  );
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= text.byteLength) return controller.close();
      await sleep(1);
      controller.enqueue(text.slice(offset, offset + 16 * 1024));
      offset += 16 * 1024;
    },
  });
}

Deno.test("limits.body: a chunked JSON body past the cap is 413 on routes with and without body rules, and never reaches the upstream whole", async () => {
  // Every body the upstream began to receive, and how it ended.
  const received: Promise<{ path: string; bytes: number; complete: boolean }>[] = [];
  const upstream = await serveLoopback((request) => {
    const path = new URL(request.url).pathname;
    const outcome = (async () => {
      let bytes = 0;
      try {
        for await (const chunk of request.body!) bytes += chunk.byteLength;
        return { path, bytes, complete: true };
      } catch {
        return { path, bytes, complete: false };
      }
    })();
    received.push(outcome);
    return outcome.then(({ bytes }) => Response.json({ bytes }));
  });
  // Caps of 64 KiB, far under the gateway's body memory (64 MiB by default): only the cap
  // can refuse these bodies.
  const gateway = await startGateway(
    `routes:
  - name: ruled
    path: /ruled
    upstream: ${upstream.url}
    allow: ["POST /**"]
    limits: { body: 64kb }
    body: { models: [gpt-4o-mini], max_tokens: 100 }
  - name: plain
    path: /plain
    upstream: ${upstream.url}
    allow: ["POST /**"]
    limits: { body: 64kb }
`,
  );
  const post = (path: string, body: ReadableStream<Uint8Array>) =>
    fetch(`${gateway.url}${path}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      // @ts-ignore: streamed request bodies need duplex
      duplex: "half",
    });
  try {
    // Under the cap, chunked bodies pass on both routes.
    for (const path of ["/ruled", "/plain"]) {
      const small = await post(path, chunkedChat(60 * 1024));
      assert.equal(small.status, 200, `${path}: ${await small.text()}`);
    }
    assert.equal(received.length, 2);
    for (const path of ["/ruled", "/plain"]) {
      const response = await post(path, chunkedChat(512 * 1024));
      assert.equal(response.status, 413, path);
      const error = (await response.json()).error;
      assert.equal(error.type, "payload_too_large", path);
      assert.match(error.message, /larger than 65536 bytes/, path);
    }
    const outcomes = await Promise.all(received);
    const refused = outcomes.slice(2);
    // Read for rules: nothing leaves. Streamed as it comes: the upload is cut, never ended.
    assert.deepEqual(refused.filter((r) => r.path.startsWith("/ruled")), []);
    for (const partial of refused) {
      assert.equal(partial.complete, false, JSON.stringify(partial));
      assert.ok(partial.bytes <= 64 * 1024, JSON.stringify(partial));
    }
    await waitFor(() => gateway.logs.length === 4);
    assert.deepEqual(gateway.logs.map((l) => l.status), [200, 200, 413, 413]);
  } finally {
    await gateway.close();
    await upstream.close();
  }
});

async function waitFor(condition: () => boolean, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    assert.ok(Date.now() < deadline, "timed out waiting");
    await sleep(10);
  }
}
