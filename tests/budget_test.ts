/**
 * Token budgets that hold: each request reserves its worst case (body bytes plus the clamped
 * output maximum) in one atomic store operation before it is forwarded, so 50 concurrent
 * requests against a budget that fits 5 worst cases let at most 5 through: in one process, and
 * across two processes sharing a `redis-server` or a Deno KV file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startGatewayProcess } from "./helpers/process.ts";
import { startRedis } from "./helpers/redis.ts";
import { serveLoopback } from "./helpers/serve.ts";

const ENV = { OPENAI_API_KEY: "sk-server" };
const CLIENTS = 50;
const BODY = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
// The body as sent (the clamp adds `"max_completion_tokens":1000`) is under 100 bytes, so a
// worst case is under 1100 tokens and over 1000: 5500 holds 5 of them, never 6.
const CLAMP = 1000;
const BUDGET = 5500;

/**
 * An upstream that holds every request until all 50 clients have their answer or a second
 * has passed, so no early answer settles a reservation while the others race.
 */
async function heldUpstream() {
  const seen = { requests: 0 };
  const release = Promise.withResolvers<void>();
  const server = await serveLoopback(async () => {
    seen.requests++;
    await Promise.race([release.promise, new Promise((r) => setTimeout(r, 1_000))]);
    return Response.json({
      id: "c1",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    });
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
    limits: { tokens: ${BUDGET}/hour }
    body: { max_tokens: ${CLAMP} }
`;
}

/** 50 concurrent requests spread over `bases`; the count of each status. */
async function burst(bases: string[], release: () => void): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let refused = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    const response = await fetch(`${bases[i % bases.length]}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    await response.body?.cancel();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status === 429) {
      assert.ok(Number(response.headers.get("retry-after")) >= 1);
      if (++refused === CLIENTS - 5) release();
    }
  }));
  return statuses;
}

function check(statuses: Map<number, number>, upstream: number, label: string, exact: boolean) {
  const passed = statuses.get(200) ?? 0;
  const detail = `${label}: ${JSON.stringify([...statuses])}`;
  assert.ok(passed <= 5, detail);
  if (exact) assert.equal(passed, 5, detail);
  assert.equal(passed + (statuses.get(429) ?? 0), CLIENTS, detail);
  assert.equal(upstream, passed, `${label}: the upstream saw only what passed`);
  console.log(`${label}: ${passed} of ${CLIENTS} concurrent requests passed a budget of 5`);
}

Deno.test("token budget, memory store: 50 concurrent requests, a budget of 5 worst cases, 5 pass", async () => {
  const upstream = await heldUpstream();
  const gateway = await startGateway(config("{ kind: memory }", upstream.url), ENV);
  try {
    const hour = Math.floor(Date.now() / 3_600_000);
    const statuses = await burst([gateway.url], upstream.release);
    if (Math.floor(Date.now() / 3_600_000) === hour) {
      check(statuses, upstream.seen.requests, "memory", true);
    }
  } finally {
    upstream.release();
    await gateway.close();
    await upstream.close();
  }
});

async function twoProcesses(store: string, label: string) {
  const upstream = await heldUpstream();
  const yaml = config(store, upstream.url);
  const gateways = await Promise.all([
    startGatewayProcess(yaml, ENV),
    startGatewayProcess(yaml, ENV),
  ]);
  try {
    const hour = Math.floor(Date.now() / 3_600_000);
    const statuses = await burst(gateways.map((g) => g.url), upstream.release);
    if (Math.floor(Date.now() / 3_600_000) === hour) {
      check(statuses, upstream.seen.requests, label, false);
    }
  } finally {
    upstream.release();
    await Promise.all(gateways.map((g) => g.stop()));
    await upstream.close();
  }
}

Deno.test("token budget, two processes on one redis-server: at most 5 of 50 concurrent pass", async () => {
  const redis = await startRedis();
  try {
    await twoProcesses(`{ kind: redis, url: "${redis.url}" }`, "redis");
  } finally {
    await redis.stop();
  }
});

Deno.test("token budget, two processes on one Deno KV file: at most 5 of 50 concurrent pass", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
  try {
    await twoProcesses(`{ kind: kv, path: "${dir}/limits.kv" }`, "kv");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
