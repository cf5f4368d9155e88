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
import { inOneWindow, WINDOW_MS } from "./helpers/window.ts";

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

/** A store for one attempt: its `store:` value, and how to get rid of it. */
type OpenStore = () => Promise<{ store: string; close(): Promise<void> }>;

/**
 * 50 clients against `count` gateway processes on the store `open()` gives, first on the
 * request budget, then on the in-flight cap, in one window of the budget.
 */
async function run(open: OpenStore, count: number) {
  return await inOneWindow(WINDOW_MS.hour, async () => {
    const store = await open();
    const upstream = await countingUpstream();
    try {
      const yaml = config(store.store, upstream.url);
      const gateways = await Promise.all(
        Array.from({ length: count }, () => startGatewayProcess(yaml)),
      );
      try {
        const bases = gateways.map((g) => g.url);
        const budget = await load(bases, "/budget/x");
        const allowed = upstream.counts.requests;
        upstream.counts.peak = 0;
        const slots = await load(bases, "/slots/x");
        return {
          budget,
          allowed,
          slots,
          slotted: upstream.counts.requests - allowed,
          peak: upstream.counts.peak,
        };
      } finally {
        await Promise.all(gateways.map((g) => g.stop()));
      }
    } finally {
      await upstream.close();
      await store.close();
    }
  });
}

async function sharedLimit(open: OpenStore, count: number, label: string) {
  const { budget, allowed, slots, slotted, peak } = await run(open, count);
  // Exactly the limit, not one more, although the requests raced through two processes.
  assert.equal(budget.get(200), LIMIT, `${label}: ${JSON.stringify([...budget])}`);
  assert.equal(budget.get(429), CLIENTS * ROUNDS - LIMIT);
  assert.equal(allowed, LIMIT);
  assert.ok(peak <= IN_FLIGHT, `${label}: peak ${peak}`);
  assert.ok((slots.get(200) ?? 0) >= IN_FLIGHT, `${label}: ${JSON.stringify([...slots])}`);
  assert.equal(slotted, slots.get(200));
  console.log(
    `${label}: ${budget.get(200)} of ${CLIENTS * ROUNDS} requests allowed at a limit of ` +
      `${LIMIT}; peak in flight ${peak} at a limit of ${IN_FLIGHT}`,
  );
}

Deno.test("two gateways sharing redis-server hold one limit under 50 concurrent clients", async () => {
  await sharedLimit(
    async () => {
      const redis = await startRedis();
      return { store: `{ kind: redis, url: "${redis.url}" }`, close: () => redis.stop() };
    },
    2,
    "redis",
  );
});

Deno.test("two gateways sharing a Deno KV file hold one limit under 50 concurrent clients", async () => {
  await sharedLimit(
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
      return {
        store: `{ kind: kv, path: "${dir}/limits.kv" }`,
        close: () => Deno.remove(dir, { recursive: true }),
      };
    },
    2,
    "kv",
  );
});

Deno.test("one gateway on the memory store holds the same limit under 50 concurrent clients", async () => {
  await sharedLimit(
    () => Promise.resolve({ store: "{ kind: memory }", close: () => Promise.resolve() }),
    1,
    "memory",
  );
});
