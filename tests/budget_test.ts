/**
 * Token budgets that hold: each request reserves its worst case (body bytes plus the clamped
 * output maximum) in one atomic store operation before it is forwarded, so 50 concurrent
 * requests against a budget that fits 5 worst cases let exactly 5 through and refuse the rest
 * with 429 and `Retry-After`: in one process, and across two processes sharing a
 * `redis-server` or a Deno KV file. Each client of a route has a budget of its own.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startGatewayProcess } from "./helpers/process.ts";
import { startRedis } from "./helpers/redis.ts";
import { serveLoopback } from "./helpers/serve.ts";
import { inOneWindow, WINDOW_MS } from "./helpers/window.ts";

const ENV = { OPENAI_API_KEY: "sk-server" };
const CLIENTS = 50;
const PASS = 5;
const BODY = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
// The body as sent (the clamp adds `"max_completion_tokens":1000`) is under 100 bytes, so a
// worst case is under 1100 tokens and over 1000: 5500 holds 5 of them, never 6.
const CLAMP = 1000;
const BUDGET = 5500;

/** A chat completion reporting `total` tokens of usage. */
function completion(total: number): Response {
  return Response.json({
    id: "c1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: total / 2, completion_tokens: total / 2, total_tokens: total },
  });
}

/**
 * An upstream that holds every request until `release()` (called once all the refusals are
 * in), so no answer settles a reservation while the others race. A request past the fifth
 * releases everyone at once: the test has failed, and nobody need wait for it.
 */
async function heldUpstream() {
  const seen = { requests: 0 };
  const release = Promise.withResolvers<void>();
  const server = await serveLoopback(async () => {
    if (++seen.requests > PASS) release.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Bounded, so a gateway that loses a request cannot hang the suite.
    const bound = new Promise((resolve) => timer = setTimeout(resolve, 15_000));
    await Promise.race([release.promise, bound]);
    clearTimeout(timer);
    return completion(10);
  });
  return { ...server, seen, release: () => release.resolve() };
}

function config(store: string, upstream: string): string {
  return `store: ${store}
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
    limits: { tokens: ${BUDGET}/day }
    body: { max_tokens: ${CLAMP} }
`;
}

/** What a burst saw: the count of each status, and each refusal that was not a proper 429. */
interface Burst {
  statuses: Map<number, number>;
  /** Refusals without a `rate_limited` error or a whole number of seconds in `Retry-After`. */
  improper: string[];
  /** Requests the upstream received. */
  upstream: number;
}

/** 50 concurrent requests spread over `bases`. */
async function burst(bases: string[], release: () => void): Promise<Omit<Burst, "upstream">> {
  const statuses = new Map<number, number>();
  const improper: string[] = [];
  let refused = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    const response = await fetch(`${bases[i % bases.length]}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    const text = await response.text();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status !== 200) {
      const retryAfter = response.headers.get("retry-after") ?? "";
      let type;
      try {
        type = JSON.parse(text).error?.type;
      } catch {
        // reported below
      }
      if (!/^[1-9]\d*$/.test(retryAfter) || type !== "rate_limited") {
        improper.push(`${response.status} retry-after=${retryAfter} ${text}`);
      }
      if (++refused === CLIENTS - PASS) release();
    }
  }));
  return { statuses, improper };
}

function check({ statuses, improper, upstream }: Burst, label: string) {
  const passed = statuses.get(200) ?? 0;
  const detail = `${label}: ${JSON.stringify([...statuses])}`;
  assert.equal(passed, PASS, detail);
  assert.equal(statuses.get(429), CLIENTS - PASS, detail);
  assert.deepEqual(improper, [], `${label}: every refusal is a 429 with Retry-After`);
  assert.equal(upstream, PASS, `${label}: the upstream saw only what passed`);
  console.log(`${label}: ${passed} of ${CLIENTS} concurrent requests passed a budget of ${PASS}`);
}

Deno.test("token budget, memory store: 50 concurrent requests, a budget of 5 worst cases, exactly 5 pass", async () => {
  const result = await inOneWindow(WINDOW_MS.day, async () => {
    const upstream = await heldUpstream();
    const gateway = await startGateway(config("{ kind: memory }", upstream.url), ENV);
    try {
      const seen = await burst([gateway.url], upstream.release);
      return { ...seen, upstream: upstream.seen.requests };
    } finally {
      upstream.release();
      await gateway.close();
      await upstream.close();
    }
  });
  check(result, "memory");
});

/** Two gateway processes on the store `open()` gives for each attempt. */
async function twoProcesses(open: () => Promise<{ store: string; close(): Promise<void> }>) {
  return await inOneWindow(WINDOW_MS.day, async () => {
    const store = await open();
    const upstream = await heldUpstream();
    try {
      const yaml = config(store.store, upstream.url);
      const gateways = await Promise.all([
        startGatewayProcess(yaml, ENV),
        startGatewayProcess(yaml, ENV),
      ]);
      try {
        const seen = await burst(gateways.map((g) => g.url), upstream.release);
        return { ...seen, upstream: upstream.seen.requests };
      } finally {
        upstream.release();
        await Promise.all(gateways.map((g) => g.stop()));
      }
    } finally {
      await upstream.close();
      await store.close();
    }
  });
}

Deno.test("token budget, two processes on one redis-server: exactly 5 of 50 concurrent pass", async () => {
  const result = await twoProcesses(async () => {
    const redis = await startRedis();
    return { store: `{ kind: redis, url: "${redis.url}" }`, close: () => redis.stop() };
  });
  check(result, "redis");
});

Deno.test("token budget, two processes on one Deno KV file: exactly 5 of 50 concurrent pass", async () => {
  const result = await twoProcesses(async () => {
    const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
    return {
      store: `{ kind: kv, path: "${dir}/limits.kv" }`,
      close: () => Deno.remove(dir, { recursive: true }),
    };
  });
  check(result, "kv");
});

Deno.test("token budget per client: one client spending all of hers leaves another client all of his", async () => {
  // Each answer reports 400 tokens; a worst case (a short prompt and the clamp of 300) is
  // at least 300. So 1000 holds two answers (400, then 800) and never a third, per client.
  const result = await inOneWindow(WINDOW_MS.day, async () => {
    const upstream = await serveLoopback(() => completion(400));
    const gateway = await startGateway(
      `clients:
  - { id: alice, token: alice-token }
  - { id: bob, token: bob-token }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream.url}
    auth: token
    limits: { tokens: 1000/day }
    body: { max_tokens: 300 }
`,
      ENV,
    );
    const call = async (token: string) => {
      const logged = gateway.logs.length + 1;
      const response = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: BODY,
      });
      const text = await response.text();
      if (response.status === 429) assert.ok(Number(response.headers.get("retry-after")) >= 1);
      else assert.equal(response.status, 200, text);
      // Settled once its line is logged: the next request sees what this one used.
      for (let i = 0; gateway.logs.length < logged; i++) {
        assert.ok(i < 400, "the request is logged");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return response.status;
    };
    try {
      const alice = [await call("alice-token"), await call("alice-token")];
      alice.push(await call("alice-token"));
      const bob = [await call("bob-token"), await call("bob-token"), await call("bob-token")];
      // Alice is still refused once Bob has spent his.
      alice.push(await call("alice-token"));
      return { alice, bob, tokens: gateway.logs.map((l) => [l.client, l.tokens?.total]) };
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
  assert.deepEqual(result.alice, [200, 200, 429, 429], "alice's own budget");
  assert.deepEqual(result.bob, [200, 200, 429], "bob has a budget of his own, all of it");
  assert.deepEqual(result.tokens.filter(([, total]) => total !== undefined), [
    ["alice", 400],
    ["alice", 400],
    ["bob", 400],
    ["bob", 400],
  ]);
});
