import assert from "node:assert/strict";
import { startRedis } from "../../tests/helpers/redis.ts";
import { KvStore } from "./kv.ts";
import { MemoryStore } from "./memory.ts";
import { RedisStore } from "./redis.ts";
import type { LimitStore } from "./store.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every store must have, whatever it keeps counters in. */
async function contract(store: LimitStore) {
  // Counters add up within a window and report when it ends.
  const window = 60_000;
  assert.equal((await store.read("r:alice", window)).count, 0);
  assert.equal((await store.add("r:alice", 1, window)).count, 1);
  const second = await store.add("r:alice", 4, window);
  assert.equal(second.count, 5);
  assert.ok(second.resetMs > 0 && second.resetMs <= window);
  assert.equal((await store.read("r:alice", window)).count, 5);
  assert.equal((await store.read("r:bob", window)).count, 0, "clients do not share counters");

  // A new window starts from zero.
  const short = 300;
  await store.add("r:short", 3, short);
  await sleep((await store.read("r:short", short)).resetMs + 20);
  assert.equal((await store.read("r:short", short)).count, 0);

  // Slots: at most `max` at once; a released slot can be taken again.
  const a = await store.acquire("c:alice", 2, 60_000);
  const b = await store.acquire("c:alice", 2, 60_000);
  assert.ok(a && b);
  assert.equal(await store.acquire("c:alice", 2, 60_000), undefined);
  await store.release("c:alice", a);
  const c = await store.acquire("c:alice", 2, 60_000);
  assert.ok(c);
  await store.release("c:alice", b);
  await store.release("c:alice", c);

  // Concurrent adds are all counted.
  await Promise.all(Array.from({ length: 40 }, () => store.add("r:burst", 1, window)));
  assert.equal((await store.read("r:burst", window)).count, 40);

  // Reservations: concurrent ones never pass the limit together; settling gives back.
  const tries = await Promise.all(
    Array.from({ length: 50 }, () => store.reserve("t:alice", 100, 500, window)),
  );
  assert.equal(tries.filter((r) => r.ok).length, 5);
  assert.equal((await store.read("t:alice", window)).count, 500);
  const refused = tries.find((r) => !r.ok)!;
  assert.ok(refused.resetMs > 0 && refused.resetMs <= window);
  await store.settle("t:alice", -70, window, tries[0].window);
  assert.equal((await store.read("t:alice", window)).count, 430);
  assert.ok((await store.reserve("t:alice", 70, 500, window)).ok);
  assert.ok(!(await store.reserve("t:alice", 1, 500, window)).ok);
  await store.settle("t:alice", -10_000, window, tries[0].window);
  assert.equal((await store.read("t:alice", window)).count, 0, "never below zero");
  // A window that has ended is not settled into the next one.
  const ended = await store.reserve("t:short", 50, 100, short);
  await sleep(ended.resetMs + 20);
  await store.settle("t:short", -50, short, ended.window);
  await store.add("t:short", 10, short);
  assert.equal((await store.read("t:short", short)).count, 10);

  // Claims: the first of many concurrent callers only, until the claim expires.
  const claims = await Promise.all(Array.from({ length: 10 }, () => store.claim("once:j", 300)));
  assert.equal(claims.filter(Boolean).length, 1);
  assert.equal(await store.claim("once:j", 300), false);
  await sleep(350);
  assert.equal(await store.claim("once:j", 300), true);
  await store.close();
}

/** Per-route counters for the status page: bucketed by time, summed field by field. */
async function routeCountsContract(store: LimitStore) {
  const minute = 60_000;
  const now = Date.now();
  const at = (bucketsAgo: number) => now - bucketsAgo * minute;
  assert.deepEqual(await store.readRouteCounts("chat", minute, 3, now), [
    { requests: 0, errors: 0, tokens: 0 },
    { requests: 0, errors: 0, tokens: 0 },
    { requests: 0, errors: 0, tokens: 0 },
  ]);
  await store.addRouteCounts(
    "chat",
    { requests: 2, errors: 1, tokens: 30 },
    minute,
    5 * minute,
    at(2),
  );
  await store.addRouteCounts(
    "chat",
    { requests: 1, errors: 0, tokens: 5 },
    minute,
    5 * minute,
    at(0),
  );
  // Concurrent adds from many requests (or instances) all count.
  await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        store.addRouteCounts(
          "chat",
          { requests: 1, errors: 1, tokens: 2 },
          minute,
          5 * minute,
          now,
        ),
    ),
  );
  await store.addRouteCounts(
    "other",
    { requests: 7, errors: 7, tokens: 7 },
    minute,
    5 * minute,
    now,
  );
  // Another bucket size is another series.
  await store.addRouteCounts(
    "chat",
    { requests: 9, errors: 9, tokens: 9 },
    5 * minute,
    minute,
    now,
  );
  assert.deepEqual(await store.readRouteCounts("chat", minute, 4, now), [
    { requests: 0, errors: 0, tokens: 0 },
    { requests: 2, errors: 1, tokens: 30 },
    { requests: 0, errors: 0, tokens: 0 },
    { requests: 21, errors: 20, tokens: 45 },
  ]);
  const [other] = await store.readRouteCounts("other", minute, 1, now);
  assert.deepEqual(other, { requests: 7, errors: 7, tokens: 7 }, "routes do not share counters");
  await store.close();
}

/** A shared store frees the slot of an instance that took it and died, once its TTL passes. */
async function deadSlotsExpire(store: LimitStore) {
  assert.ok(await store.acquire("c:ghost", 1, 200));
  assert.equal(await store.acquire("c:ghost", 1, 200), undefined);
  await sleep(250);
  assert.ok(await store.acquire("c:ghost", 1, 200));
  await store.close();
}

Deno.test("memory store: windows, slots, concurrent adds and route counters", async () => {
  await contract(new MemoryStore());
  await routeCountsContract(new MemoryStore());
});

Deno.test("Deno KV store: windows, slots, concurrent adds, route counters, and slots of a dead instance expire", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
  try {
    await contract(new KvStore(`${dir}/limits.kv`));
    await routeCountsContract(new KvStore(`${dir}/limits.kv`));
    await deadSlotsExpire(new KvStore(`${dir}/limits.kv`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Redis store: windows, slots, concurrent adds, route counters, and slots of a dead instance expire", async () => {
  const redis = await startRedis();
  try {
    await contract(new RedisStore(redis.url));
    await routeCountsContract(new RedisStore(redis.url));
    await deadSlotsExpire(new RedisStore(redis.url));
  } finally {
    await redis.stop();
  }
});

Deno.test("Redis store: an unreachable server fails the operation instead of hanging it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const store = new RedisStore(`redis://127.0.0.1:${port}`);
  await assert.rejects(store.add("r:x", 1, 60_000));
  await store.close();
});
