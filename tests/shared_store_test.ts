/**
 * One limit across instances: two gateway processes share a real `redis-server`, and two
 * share a Deno KV file, and 50 concurrent clients spread over both must get exactly the
 * configured number of requests, and never more requests in flight than allowed (the memory
 * store, one process, is held to the same).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGatewayProcess } from "./helpers/process.ts";
import { startRedis } from "./helpers/redis.ts";
import { serveLoopback } from "./helpers/serve.ts";

const LIMIT = 20;
const IN_FLIGHT = 4;
const CLIENTS = 50;
const ROUNDS = 4;

/** An upstream that holds each request briefly and records the most it held at once. */
async function countingUpstream() {
  let inFlight = 0;
  const counts = { requests: 0, peak: 0 };
  const server = await serveLoopback(async () => {
    counts.requests++;
    counts.peak = Math.max(counts.peak, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, 30));
    inFlight--;
    return Response.json({ ok: true });
  });
  return { ...server, counts };
}

function config(store: string, upstream: string): string {
  return `store: ${store}
routes:
  - name: budget
    path: /budget
    upstream: ${upstream}
    allow: ["GET /**"]
    limits: { requests: ${LIMIT}/hour }
  - name: slots
    path: /slots
    upstream: ${upstream}
    allow: ["GET /**"]
    limits: { concurrent: ${IN_FLIGHT} }
`;
}

/** 50 clients, each making ROUNDS requests in a row, alternating between the gateways. */
async function load(bases: string[], path: string): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    for (let round = 0; round < ROUNDS; round++) {
      const response = await fetch(`${bases[(client + round) % bases.length]}${path}`);
      await response.body?.cancel();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  }));
  return statuses;
}

async function sharedLimit(store: string, label: string) {
  const upstream = await countingUpstream();
  const yaml = config(store, upstream.url);
  const gateways = await Promise.all([startGatewayProcess(yaml), startGatewayProcess(yaml)]);
  const bases = gateways.map((g) => g.url);
  try {
    const hour = Math.floor(Date.now() / 3_600_000);
    const budget = await load(bases, "/budget/x");
    if (Math.floor(Date.now() / 3_600_000) === hour) {
      // Exactly the limit, not one more, although the requests raced through two processes.
      assert.equal(budget.get(200), LIMIT, `${label}: ${JSON.stringify([...budget])}`);
      assert.equal(budget.get(429), CLIENTS * ROUNDS - LIMIT);
      assert.equal(upstream.counts.requests, LIMIT);
    }
    const before = upstream.counts.requests;
    upstream.counts.peak = 0;
    const slots = await load(bases, "/slots/x");
    assert.ok(upstream.counts.peak <= IN_FLIGHT, `${label}: peak ${upstream.counts.peak}`);
    assert.ok((slots.get(200) ?? 0) >= IN_FLIGHT, `${label}: ${JSON.stringify([...slots])}`);
    assert.equal(upstream.counts.requests - before, slots.get(200));
    console.log(
      `${label}: ${budget.get(200)} of ${
        CLIENTS * ROUNDS
      } requests allowed at a limit of ${LIMIT}; ` +
        `peak in flight ${upstream.counts.peak} at a limit of ${IN_FLIGHT}`,
    );
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await upstream.close();
  }
}

Deno.test("two gateways sharing redis-server hold one limit under 50 concurrent clients", async () => {
  const redis = await startRedis();
  try {
    await sharedLimit(`{ kind: redis, url: "${redis.url}" }`, "redis");
  } finally {
    await redis.stop();
  }
});

Deno.test("two gateways sharing a Deno KV file hold one limit under 50 concurrent clients", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
  try {
    await sharedLimit(`{ kind: kv, path: "${dir}/limits.kv" }`, "kv");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one gateway on the memory store holds the same limit under 50 concurrent clients", async () => {
  const upstream = await countingUpstream();
  const gateway = await startGatewayProcess(config("{ kind: memory }", upstream.url));
  try {
    const hour = Math.floor(Date.now() / 3_600_000);
    const budget = await load([gateway.url], "/budget/x");
    if (Math.floor(Date.now() / 3_600_000) === hour) assert.equal(budget.get(200), LIMIT);
    upstream.counts.peak = 0;
    await load([gateway.url], "/slots/x");
    assert.ok(upstream.counts.peak <= IN_FLIGHT);
    console.log(
      `memory: ${budget.get(200)} of ${
        CLIENTS * ROUNDS
      } requests allowed at a limit of ${LIMIT}; ` +
        `peak in flight ${upstream.counts.peak} at a limit of ${IN_FLIGHT}`,
    );
  } finally {
    await gateway.stop();
    await upstream.close();
  }
});
