import assert from "node:assert/strict";
import { FailFastStore, StoreUnavailable } from "./fail_fast.ts";
import { MemoryStore } from "./memory.ts";
import type { Reachable, StoreWatcher } from "./store.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class ConnectionLost extends Error {
  constructor() {
    super("connection lost");
    this.name = "ConnectionLost";
  }
}

/**
 * A memory store that can be switched off as a server can go away: while off, every
 * operation (and ping) fails with ConnectionLost after `delayMs`, as a client finds out; with
 * `hang`, operations never answer. It counts what reached it.
 */
class FakeServer extends MemoryStore implements Reachable {
  on = true;
  hang = false;
  delayMs = 0;
  pings = 0;
  calls = 0;
  watcher?: StoreWatcher;
  readonly settled: number[] = [];

  async #gate(): Promise<void> {
    this.calls++;
    if (this.hang) await new Promise(() => {});
    if (this.on) return;
    await sleep(this.delayMs);
    throw new ConnectionLost();
  }

  ping(): Promise<void> {
    this.pings++;
    return this.on ? Promise.resolve() : Promise.reject(new ConnectionLost());
  }

  unreachable(error: unknown): boolean {
    return error instanceof ConnectionLost;
  }

  watch(watcher: StoreWatcher): void {
    this.watcher = watcher;
  }

  override async add(key: string, amount: number, windowMs: number) {
    await this.#gate();
    return super.add(key, amount, windowMs);
  }

  override async reserve(key: string, amount: number, limit: number, windowMs: number) {
    await this.#gate();
    return super.reserve(key, amount, limit, windowMs);
  }

  override async settle(key: string, delta: number, windowMs: number, window: number) {
    await this.#gate();
    this.settled.push(delta);
    return super.settle(key, delta, windowMs, window);
  }

  override async claim(key: string, ttlMs: number) {
    await this.#gate();
    if (key === "bad") throw new Error("ERR script error");
    return super.claim(key, ttlMs);
  }
}

async function timed<T>(work: Promise<T>): Promise<{ ms: number; error?: unknown }> {
  const started = performance.now();
  try {
    await work;
    return { ms: performance.now() - started };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

Deno.test("fail-fast store: a store found down is refused at once, probed, and serves again when it answers", async () => {
  const inner = new FakeServer();
  inner.delayMs = 300; // a client that takes its time to find the server gone
  const store = new FailFastStore(inner, { probeMs: 50 });
  try {
    assert.equal((await store.add("requests:r:a", 1, 60_000)).count, 1);
    assert.equal(inner.pings, 0, "no probing while up");

    inner.on = false;
    const first = await timed(store.add("requests:r:a", 1, 60_000));
    assert.ok(first.error instanceof StoreUnavailable, String(first.error));
    assert.ok((first.error as Error).cause instanceof ConnectionLost);
    assert.ok(store.down);

    // Known down: refused without reaching the store, well within 100 ms.
    const calls = inner.calls;
    for (let i = 0; i < 50; i++) {
      const { ms, error } = await timed(store.reserve("tokens:r:a", 1, 10, 60_000));
      assert.ok(error instanceof StoreUnavailable);
      assert.ok(ms < 100, `${ms} ms`);
    }
    assert.equal(inner.calls, calls, "nothing reached the store while down");

    // Probed in the background while down.
    const pings = inner.pings;
    await sleep(230);
    assert.ok(inner.pings >= pings + 2, `${inner.pings - pings} probes in 230 ms`);

    // Back: up within a probe interval, and counting where it left off.
    inner.on = true;
    const back = performance.now();
    while (store.down) {
      assert.ok(performance.now() - back < 1_000, "not back within a second");
      await sleep(5);
    }
    assert.equal((await store.add("requests:r:a", 1, 60_000)).count, 2);
    const after = inner.pings;
    await sleep(150);
    assert.equal(inner.pings, after, "probing stops once up");
  } finally {
    await store.close();
  }
});

Deno.test("fail-fast store: an error from a reachable store is passed on and leaves it up", async () => {
  const inner = new FakeServer();
  const store = new FailFastStore(inner, { probeMs: 50 });
  try {
    await assert.rejects(store.claim("bad", 1_000), /script error/);
    assert.ok(!store.down);
    assert.equal(await store.claim("good", 1_000), true);
  } finally {
    await store.close();
  }
});

Deno.test("fail-fast store: operations in flight are refused the moment the connection is reported lost", async () => {
  const inner = new FakeServer();
  const store = new FailFastStore(inner, { probeMs: 50 });
  try {
    inner.hang = true;
    const inFlight = [
      timed(store.reserve("tokens:r:a", 1, 10, 60_000)),
      timed(store.add("requests:r:a", 1, 60_000)),
    ];
    await sleep(20);
    inner.on = false;
    inner.watcher!.lost(new ConnectionLost());
    for (const { ms, error } of await Promise.all(inFlight)) {
      assert.ok(error instanceof StoreUnavailable);
      assert.ok(ms < 100, `${ms} ms`);
    }
    assert.ok(store.down);
    // The store reporting its connection back is probed at once.
    inner.hang = false;
    inner.on = true;
    inner.watcher!.back();
    await sleep(0);
    assert.ok(!store.down);
  } finally {
    await store.close();
  }
});

Deno.test("fail-fast store: settles and releases asked for while down are applied, in order, once it is back", async () => {
  const inner = new FakeServer();
  const store = new FailFastStore(inner, { probeMs: 30 });
  try {
    const held = await store.reserve("tokens:r:a", 100, 1_000, 60_000);
    const slot = await store.acquire("concurrent:r:a", 1, 60_000);
    assert.ok(slot);
    inner.on = false;
    inner.watcher!.lost();
    // Neither is refused: they are kept for the store's return.
    await store.settle("tokens:r:a", -60, 60_000, held.window);
    await store.settle("tokens:r:a", 25, 60_000, held.window);
    await store.release("concurrent:r:a", slot);
    assert.deepEqual(inner.settled, []);
    inner.on = true;
    while (store.down) await sleep(5);
    await sleep(10);
    assert.deepEqual(inner.settled, [-60, 25]);
    assert.equal((await store.read("tokens:r:a", 60_000)).count, 65);
    assert.ok(await store.acquire("concurrent:r:a", 1, 60_000), "the slot was given back");
  } finally {
    await store.close();
  }
});

Deno.test("fail-fast store: closing stops the probe", async () => {
  const inner = new FakeServer();
  const store = new FailFastStore(inner, { probeMs: 20 });
  inner.on = false;
  inner.watcher!.lost();
  await sleep(50);
  await store.close();
  const pings = inner.pings;
  await sleep(60);
  assert.equal(inner.pings, pings);
});
