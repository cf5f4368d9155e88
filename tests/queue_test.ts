/**
 * `limits.queue`: requests that would get 429 for `concurrent` or a cooling key pool wait their
 * turn, first come first served; a waiting stream gets SSE heartbeats; a client that hangs up
 * leaves the line at once; the line is exported as metrics and shown on the status page.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { serveLoopback } from "./helpers/serve.ts";

const ENV = { OPENAI_API_KEY: "sk-server", KEY_A: "sk-a", KEY_B: "sk-b" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An upstream that holds each chat request until released (or `holdMs` passes), records the
 * order requests arrived in and the most it held at once; stream requests get a short stream.
 */
async function holdingUpstream(holdMs: number) {
  const seen: string[] = [];
  let inFlight = 0;
  let peak = 0;
  let gate = Promise.withResolvers<void>();
  const server = await serveLoopback(async (request) => {
    const body = await request.json();
    seen.push(body.messages?.[0]?.content ?? "");
    peak = Math.max(peak, ++inFlight);
    try {
      await Promise.race([gate.promise, sleep(holdMs)]);
      const content = body.messages?.[0]?.content;
      if (content === "json anyway") {
        // An upstream that answers a stream request with one JSON body (over 64 KiB of it).
        return Response.json({ choices: [{ message: { content: "x".repeat(100_000) } }] });
      }
      if (body.stream) {
        const events = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n';
        return new Response(events, { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json({ choices: [], usage: { total_tokens: 1 } });
    } finally {
      inFlight--;
    }
  });
  return {
    ...server,
    seen,
    get peak() {
      return peak;
    },
    release() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
    },
  };
}

function config(upstream: string, limits: string): string {
  return `server:
  metrics: /metrics
  status: /keyward/status
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
    limits: ${limits}
`;
}

function chat(
  gateway: TestGateway,
  content: string,
  extra: RequestInit & { stream?: boolean } = {},
) {
  return fetch(`${gateway.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-4o-mini",
      stream: extra.stream ?? false,
      messages: [{ role: "user", content }],
    }),
    signal: extra.signal,
  });
}

async function metric(gateway: TestGateway, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{route="openai"}`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

async function until(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

/** Three requests, 20 ms apart, against one slot: their statuses, in order. */
async function three(gateway: TestGateway): Promise<number[]> {
  const responses: Promise<Response>[] = [];
  for (const name of ["first", "second", "third"]) {
    responses.push(chat(gateway, name));
    await sleep(20);
  }
  return await Promise.all(responses.map(async (r) => {
    const response = await r;
    await response.body?.cancel();
    return response.status;
  }));
}

Deno.test("limits.queue: three requests on one slot are served in turn, where without it two get 429", async () => {
  const upstream = await holdingUpstream(100);
  const plain = await startGateway(config(upstream.url, "{ concurrent: 1 }"), ENV);
  try {
    assert.deepEqual(await three(plain), [200, 429, 429]);
  } finally {
    await plain.close();
  }
  upstream.seen.length = 0;
  const queued = await startGateway(config(upstream.url, "{ concurrent: 1, queue: 5s }"), ENV);
  try {
    assert.deepEqual(await three(queued), [200, 200, 200]);
    assert.deepEqual(upstream.seen, ["first", "second", "third"], "first come, first served");
    assert.equal(upstream.peak, 1, "never more than the one slot in flight");
  } finally {
    await queued.close();
    await upstream.close();
  }
});

Deno.test("limits.queue: a waiter that hangs up leaves the line at once; one past the time gets 429", async () => {
  const upstream = await holdingUpstream(10_000);
  const gateway = await startGateway(config(upstream.url, "{ concurrent: 1, queue: 5s }"), ENV);
  try {
    const first = chat(gateway, "first");
    await until(() => Promise.resolve(upstream.seen.length === 1), "the first request upstream");
    const hangUp = new AbortController();
    const waiter = chat(gateway, "waiter", { signal: hangUp.signal }).catch(() => undefined);
    await until(async () => await metric(gateway, "keyward_queue_waiting") === 1, "a waiter");
    assert.ok((await metric(gateway, "keyward_queue_expected_wait_seconds"))! >= 0);
    // The status page shows the line too.
    const status = await (await fetch(`${gateway.url}/keyward/status`)).json();
    const queue = status.routes.find((r: { route: string }) => r.route === "openai").queue;
    assert.equal(queue.length, 1);
    assert.ok(queue.expected_wait_ms >= 0);
    hangUp.abort();
    await waiter;
    await until(async () => await metric(gateway, "keyward_queue_waiting") === 0, "it to leave");
    upstream.release();
    assert.equal((await first).status, 200);
    // Its turn was not given to a client that is gone: the next request is served at once.
    upstream.release();
    const next = chat(gateway, "next");
    await until(() => Promise.resolve(upstream.seen.length === 2), "the next request upstream");
    upstream.release();
    assert.equal((await next).status, 200);
    assert.deepEqual(upstream.seen, ["first", "next"]);
    await sleep(20);
    assert.ok(gateway.logs.some((l) => l.error === "queue_left"));
  } finally {
    upstream.release();
    await gateway.close();
    await upstream.close();
  }
  const short = await holdingUpstream(10_000);
  const strict = await startGateway(config(short.url, "{ concurrent: 1, queue: 300ms }"), ENV);
  try {
    const first = chat(strict, "first");
    await until(() => Promise.resolve(short.seen.length === 1), "the first request upstream");
    const late = await chat(strict, "late");
    assert.equal(late.status, 429);
    assert.ok(Number(late.headers.get("retry-after")) >= 1);
    assert.match((await late.json()).error.message, /queue/);
    short.release();
    await (await first).body?.cancel();
    assert.deepEqual(short.seen, ["first"]);
  } finally {
    short.release();
    await strict.close();
    await short.close();
  }
});

Deno.test("limits.queue: a waiting stream gets SSE heartbeats at once, then its upstream stream", async () => {
  const upstream = await holdingUpstream(10_000);
  const gateway = await startGateway(config(upstream.url, "{ concurrent: 1, queue: 5s }"), ENV);
  try {
    const first = chat(gateway, "first");
    await until(() => Promise.resolve(upstream.seen.length === 1), "the first request upstream");
    const streamed = await chat(gateway, "streamed", { stream: true });
    // Answered while the slot is still taken: headers and a heartbeat comment.
    assert.equal(streamed.status, 200);
    assert.match(streamed.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = streamed.body!.pipeThrough(new TextDecoderStream()).getReader();
    const heartbeat = await reader.read();
    assert.match(heartbeat.value ?? "", /^: /);
    assert.equal(upstream.seen.length, 1, "still waiting");
    upstream.release();
    assert.equal((await first).status, 200);
    upstream.release();
    let text = heartbeat.value ?? "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /"content":"hi"/);
    assert.match(text, /data: \[DONE\]/);
    assert.deepEqual(upstream.seen, ["first", "streamed"]);
    await sleep(20);
    assert.equal(gateway.logs.at(-1)?.status, 200);
  } finally {
    upstream.release();
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("limits.queue: a waiting stream answered with JSON gets it whole as one data event", async () => {
  const upstream = await holdingUpstream(10_000);
  const gateway = await startGateway(config(upstream.url, "{ concurrent: 1, queue: 5s }"), ENV);
  try {
    const first = chat(gateway, "first");
    await until(() => Promise.resolve(upstream.seen.length === 1), "the first request upstream");
    const streamed = await chat(gateway, "json anyway", { stream: true });
    assert.equal(streamed.status, 200, "answered at once, with heartbeats");
    upstream.release();
    await (await first).body?.cancel();
    upstream.release();
    const text = await streamed.text();
    assert.doesNotMatch(text, /event: error/);
    const data = text.split("\n").find((line) => line.startsWith("data: "))!;
    const answer = JSON.parse(data.slice("data: ".length));
    assert.equal(answer.choices[0].message.content.length, 100_000);
  } finally {
    upstream.release();
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("limits.queue: a stream whose turn does not come ends with an SSE error event", async () => {
  const upstream = await holdingUpstream(10_000);
  const gateway = await startGateway(config(upstream.url, "{ concurrent: 1, queue: 300ms }"), ENV);
  try {
    const first = chat(gateway, "first");
    await until(() => Promise.resolve(upstream.seen.length === 1), "the first request upstream");
    const streamed = await chat(gateway, "streamed", { stream: true });
    assert.equal(streamed.status, 200);
    const text = await streamed.text();
    assert.match(text, /^: /);
    assert.match(text, /event: error\ndata: \{"error":\{"type":"rate_limited"/);
    upstream.release();
    await (await first).body?.cancel();
    assert.deepEqual(upstream.seen, ["first"]);
    await sleep(20);
    assert.equal(gateway.logs.find((l) => l.error === "queue_timeout")?.status, 429);
  } finally {
    upstream.release();
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("limits.queue: when every key of the pool is cooling, a request waits for one to come back", async () => {
  let cooling = true;
  const arrivals: { key: string; at: number }[] = [];
  const upstream = await serveLoopback((request) => {
    arrivals.push({ key: request.headers.get("authorization") ?? "", at: performance.now() });
    if (cooling) {
      return Response.json({ error: { message: "slow down" } }, {
        status: 429,
        headers: { "retry-after": "1" },
      });
    }
    return Response.json({ choices: [], usage: { total_tokens: 1 } });
  });
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream.url}
    key: { pool: [{ env: KEY_A }, { env: KEY_B }] }
    limits: { queue: 5s }
`,
    ENV,
  );
  try {
    // Both keys get 429 with Retry-After: 1 and are set aside.
    const first = await chat(gateway, "first");
    assert.equal(first.status, 429);
    await first.body?.cancel();
    assert.equal(arrivals.length, 2);
    const cooledAt = performance.now();
    cooling = false;
    const second = await chat(gateway, "second");
    assert.equal(second.status, 200);
    await second.body?.cancel();
    assert.equal(arrivals.length, 3);
    // It was not sent on a cooling key: it waited for one to come back.
    assert.ok(arrivals[2].at - cooledAt >= 900, `sent after ${arrivals[2].at - cooledAt} ms`);
  } finally {
    await gateway.close();
    await upstream.close();
  }
});
