import assert from "node:assert/strict";
import { startRedis } from "../../tests/helpers/redis.ts";
import { type RedisCluster, startRedisCluster } from "../../tests/helpers/redis_cluster.ts";
import { StoreUnavailable } from "./fail_fast.ts";
import { KvStore } from "./kv.ts";
import { MemoryStore } from "./memory.ts";
import { openStore } from "./open_store.ts";
import { RedisStore } from "./redis.ts";
import { redisKey } from "./redis_keys.ts";
import { type LimitStore, MEMBERS_CAP, windowOf } from "./store.ts";

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
    { requests: 0, errors: 0, tokens: 0, spend: 0 },
    { requests: 0, errors: 0, tokens: 0, spend: 0 },
    { requests: 0, errors: 0, tokens: 0, spend: 0 },
  ]);
  await store.addRouteCounts(
    "chat",
    { requests: 2, errors: 1, tokens: 30, spend: 0 },
    minute,
    5 * minute,
    at(2),
  );
  await store.addRouteCounts(
    "chat",
    { requests: 1, errors: 0, tokens: 5, spend: 0 },
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
          { requests: 1, errors: 1, tokens: 2, spend: 0 },
          minute,
          5 * minute,
          now,
        ),
    ),
  );
  await store.addRouteCounts(
    "other",
    { requests: 7, errors: 7, tokens: 7, spend: 0 },
    minute,
    5 * minute,
    now,
  );
  // Another bucket size is another series.
  await store.addRouteCounts(
    "chat",
    { requests: 9, errors: 9, tokens: 9, spend: 0 },
    5 * minute,
    minute,
    now,
  );
  assert.deepEqual(await store.readRouteCounts("chat", minute, 4, now), [
    { requests: 0, errors: 0, tokens: 0, spend: 0 },
    { requests: 2, errors: 1, tokens: 30, spend: 0 },
    { requests: 0, errors: 0, tokens: 0, spend: 0 },
    { requests: 21, errors: 20, tokens: 45, spend: 0 },
  ]);
  const [other] = await store.readRouteCounts("other", minute, 1, now);
  assert.deepEqual(
    other,
    { requests: 7, errors: 7, tokens: 7, spend: 0 },
    "routes do not share counters",
  );
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

/**
 * Who made requests in a window: each member once, per set and window, listed up to a cap;
 * a window that has ended lists nobody.
 */
async function membersContract(store: LimitStore) {
  const day = 86_400_000;
  assert.deepEqual(await store.members("clients:chat", day), []);
  await Promise.all(
    ["alice", "bob", "alice", "ip:2001:db8::1", "a}b{c"].map((id) =>
      store.note("clients:chat", id, day)
    ),
  );
  await store.note("clients:other", "carol", day);
  assert.deepEqual(
    (await store.members("clients:chat", day)).sort(),
    ["alice", "a}b{c", "bob", "ip:2001:db8::1"],
  );
  assert.deepEqual(await store.members("clients:other", day), ["carol"], "sets are apart");
  assert.equal((await store.members("clients:chat", day, 2)).length, 2);
  assert.deepEqual(await store.members("clients:chat", day, 0), []);
  // Another window length is another window.
  assert.deepEqual(await store.members("clients:chat", 60_000), []);
  // A window that ended lists nobody.
  // Start at the top of a fresh window so the note and the first read share it.
  const short = 1000;
  await sleep(windowOf(short).resetMs + 5);
  await store.note("clients:short", "dave", short);
  assert.deepEqual(await store.members("clients:short", short), ["dave"]);
  await sleep(windowOf(short).resetMs + 20);
  assert.deepEqual(await store.members("clients:short", short), []);
  // A listing never passes the cap, however many noted (in batches: a KV file is one writer).
  for (let i = 0; i < MEMBERS_CAP + 10; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => store.note("clients:crowd", `c${i + j}`, day)),
    );
  }
  const crowd = await store.members("clients:crowd", day);
  assert.equal(crowd.length, MEMBERS_CAP);
  assert.equal(new Set(crowd).size, MEMBERS_CAP);
  assert.equal((await store.members("clients:crowd", day, 5_000)).length, MEMBERS_CAP);
  await store.close();
}

/** A spend budget: integer units of 1e-8 USD, exact up to 1e15 and beyond 2^31 per settle. */
async function moneyContract(store: LimitStore) {
  const day = 86_400_000;
  const big = 1e15; // $10,000,000 in units of 1e-8 USD
  const limit = 3 * big + 7;
  for (let i = 1; i <= 3; i++) {
    const got = await store.reserve("spend:chat:alice", big, limit, day);
    assert.ok(got.ok);
    assert.equal(got.count, i * big);
  }
  const over = await store.reserve("spend:chat:alice", 8, limit, day);
  assert.ok(!over.ok, "one unit past the limit is refused");
  assert.equal(over.count, 3 * big);
  const last = await store.reserve("spend:chat:alice", 7, limit, day);
  assert.ok(last.ok);
  assert.equal(last.count, limit, "to the unit");
  // Settling deltas past 32 bits, both ways.
  await store.settle("spend:chat:alice", 2 ** 31 + 11, day, last.window);
  assert.equal((await store.read("spend:chat:alice", day)).count, limit + 2 ** 31 + 11);
  await store.settle("spend:chat:alice", -(2 ** 33), day, last.window);
  assert.equal((await store.read("spend:chat:alice", day)).count, limit + 2 ** 31 + 11 - 2 ** 33);
  await store.settle("spend:chat:alice", -(2 ** 52), day, last.window);
  assert.equal((await store.read("spend:chat:alice", day)).count, 0, "never below zero");
  assert.equal((await store.add("spend:chat:bob", big + 1, day)).count, big + 1);
  assert.equal((await store.add("spend:chat:bob", big + 1, day)).count, 2 * big + 2);

  // 30 at once against a budget that holds 5 worst cases and not a sixth: exactly 5 pass.
  const worst = 4_200_000; // $0.042
  const tries = await Promise.all(
    Array.from({ length: 30 }, () => store.reserve("spend:chat:carol", worst, 6 * worst - 1, day)),
  );
  assert.equal(tries.filter((r) => r.ok).length, 5);
  assert.equal((await store.read("spend:chat:carol", day)).count, 5 * worst);
  await store.close();
}

Deno.test("memory store: windows, slots, concurrent adds, route counters, members and money", async () => {
  await contract(new MemoryStore());
  await routeCountsContract(new MemoryStore());
  await membersContract(new MemoryStore());
  await moneyContract(openStore({ kind: "memory" }));
});

Deno.test("Deno KV store: windows, slots, concurrent adds, route counters, members, money, and slots of a dead instance expire", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
  try {
    const path = `${dir}/limits.kv`;
    await contract(new KvStore(path));
    await routeCountsContract(new KvStore(path));
    await membersContract(new KvStore(path));
    await moneyContract(openStore({ kind: "kv", path }));
    await deadSlotsExpire(new KvStore(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Redis store: windows, slots, concurrent adds, route counters, members, money, and slots of a dead instance expire", async () => {
  const redis = await startRedis();
  try {
    // As the gateway opens it: behind the fail-fast wrapper.
    const open = () => openStore({ kind: "redis", url: redis.url });
    await contract(open());
    await routeCountsContract(open());
    await membersContract(open());
    await moneyContract(open());
    await deadSlotsExpire(new RedisStore(redis.url));
  } finally {
    await redis.stop();
  }
});

/** The slot `name` hashes to, as the cluster itself computes it. */
async function keySlot(cluster: RedisCluster, name: string): Promise<number> {
  return Number((await cluster.cli(["cluster", "keyslot", name])).trim());
}

/** Every key the cluster holds in `slot`, from whichever node serves it. */
async function keysInSlot(cluster: RedisCluster, slot: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < cluster.ports.length; i++) {
    const out = await cluster.cli(["cluster", "getkeysinslot", String(slot), "1000"], i);
    keys.push(...out.split("\n").filter(Boolean));
  }
  return keys;
}

Deno.test("Redis Cluster store: the same contract on a 3-node cluster, and a client's keys share one slot", async () => {
  const cluster = await startRedisCluster();
  try {
    const open = () => openStore({ kind: "redis", cluster: cluster.urls });
    await contract(open());
    await routeCountsContract(open());
    await membersContract(open());
    await moneyContract(open());
    await deadSlotsExpire(new RedisStore({ cluster: cluster.urls }));

    // Every key of one route and client, whatever the operation, lands in one slot; a
    // route's own keys (status counts, members) in the route's.
    const store = open();
    const day = 86_400_000;
    const reserved = await store.reserve("tokens:chat:alice", 10, 100, day);
    await store.add("requests:chat:alice", 1, day);
    const slot = await store.acquire("concurrent:chat:alice", 2, 60_000);
    await store.claim("once:chat:alice", 60_000);
    await store.addRouteCounts(
      "chat",
      { requests: 1, errors: 0, tokens: 3, spend: 0 },
      60_000,
      day,
    );
    await store.note("clients:chat", "alice", day);
    const names = [
      redisKey("tokens:chat:alice", `@${reserved.window}`),
      redisKey("requests:chat:alice", `@${reserved.window}`),
      redisKey("concurrent:chat:alice", ":slots"),
      redisKey("once:chat:alice", ":claim"),
    ];
    const slots = await Promise.all(names.map((name) => keySlot(cluster, name)));
    assert.equal(new Set(slots).size, 1, `${names.join(", ")}: slots ${slots.join(", ")}`);
    assert.equal(slots[0], await keySlot(cluster, "chat:alice"));
    const held = await keysInSlot(cluster, slots[0]);
    for (const name of names) assert.ok(held.includes(name), `${name} in slot ${slots[0]}`);
    const routeSlot = await keySlot(cluster, "chat");
    const routeKeys = await keysInSlot(cluster, routeSlot);
    assert.ok(routeKeys.some((k) => k.startsWith("keyward:stats:{chat}:60000@")), `${routeKeys}`);
    assert.ok(routeKeys.some((k) => k.startsWith("keyward:clients:{chat}:members@")));
    await store.release("concurrent:chat:alice", slot!);
    await store.close();
  } finally {
    await cluster.stop();
  }
});

/** How long `op` took, and what it threw. */
async function timed(op: () => Promise<unknown>): Promise<{ ms: number; error?: unknown }> {
  const started = performance.now();
  try {
    await op();
    return { ms: performance.now() - started };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

Deno.test("Redis Cluster store: a node killed makes it refuse at once, and it serves again once the node is back", async () => {
  const cluster = await startRedisCluster();
  const store = openStore({ kind: "redis", cluster: cluster.urls });
  // Clients spread over every node's slots.
  const clients = Array.from({ length: 12 }, (_, i) => `requests:chat:c${i}`);
  const all = () => Promise.all(clients.map((key) => timed(() => store.add(key, 1, 60_000))));
  try {
    assert.ok((await all()).every((r) => r.error === undefined));
    await cluster.stopNode(1);
    // The lost connection is seen at once: every operation is refused, none waits.
    for (let round = 0; round < 5; round++) {
      for (const { ms, error } of await all()) {
        assert.ok(error instanceof StoreUnavailable, String(error));
        assert.ok(ms < 100, `${ms} ms`);
      }
      await sleep(100);
    }
    await cluster.startNode(1); // back, and the cluster whole again
    const back = performance.now();
    for (;;) {
      const results = await all();
      if (results.every((r) => r.error === undefined)) break;
      assert.ok(performance.now() - back < 1_000, "not serving within a second");
      await sleep(20);
    }
  } finally {
    await store.close();
    await cluster.stop();
  }
});

Deno.test("Redis store: an unreachable server fails the operation instead of hanging it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const store = new RedisStore(`redis://127.0.0.1:${port}`);
  await assert.rejects(store.add("r:x", 1, 60_000));
  await store.close();

  // As the gateway opens it: known down after the first failure, then refused at once.
  const guarded = openStore({ kind: "redis", url: `redis://127.0.0.1:${port}` });
  let started = performance.now();
  await assert.rejects(guarded.add("r:x", 1, 60_000), StoreUnavailable);
  const first = performance.now() - started;
  assert.ok(first < 1_000, `first failure after ${first} ms`);
  for (let i = 0; i < 20; i++) {
    started = performance.now();
    await assert.rejects(guarded.reserve("t:x", 1, 10, 60_000), StoreUnavailable);
    const took = performance.now() - started;
    assert.ok(took < 100, `refused after ${took} ms while known down`);
  }
  await guarded.close();
});
