/**
 * A store that is known to be down answers at once. {@linkcode FailFastStore} wraps a store
 * that can be unreachable (Redis, a Redis Cluster, a remote Deno KV): the first operation that
 * finds it unreachable, or the store itself reporting its connection lost, marks it down;
 * while down, every operation is refused with {@linkcode StoreUnavailable} without touching
 * the store (the stages answer 503 `store_unavailable`: a limit never fails open), operations
 * in flight are refused too, and a probe (the store's `ping`) runs every `probeMs` in the
 * background. The first probe that is answered, or the store reporting its connection back,
 * marks it up again.
 *
 * Give-backs and charges (`settle`) and slot releases asked for while down cannot be refused
 * without losing them: they are kept (up to {@linkcode DEFERRED_CAP}, in order) and applied
 * once the store is back, so a budget is not left holding a reservation, nor missing a charge,
 * because of an outage.
 *
 * No timer runs while the store is up; the probe's timer does not keep a process alive.
 *
 * @module
 */
import { platform } from "../platform/mod.ts";
import type {
  LimitStore,
  Reachable,
  Reservation,
  RouteCounts,
  StoreWatcher,
  WindowCount,
} from "./store.ts";

/** How many settles and releases asked for while the store is down are kept for its return. */
export const DEFERRED_CAP = 10_000;

/**
 * The store is down (or did not answer): the operation was refused, not applied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreUnavailable } from "./fail_fast.ts";
 *
 * const error = new StoreUnavailable("The limit store is down");
 * assert.equal(error.name, "StoreUnavailable");
 * ```
 */
export class StoreUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailable";
  }
}

/** Tuning of {@linkcode FailFastStore}. */
export interface FailFastOptions {
  /** How often a down store is probed, in ms (200). */
  probeMs?: number;
  /** How long a probe may wait for its answer, in ms (1,000). */
  probeTimeoutMs?: number;
}

type Failer = (error: Error) => void;

/**
 * Wraps `inner` so that, while it is known to be down, every operation fails at once and the
 * store is probed in the background until it answers again (see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FailFastStore, StoreUnavailable } from "./fail_fast.ts";
 * import { MemoryStore } from "./memory.ts";
 *
 * // A memory store that can be switched off, as a server can go away
 * class Switchable extends MemoryStore {
 *   on = true;
 *   ping() {
 *     return this.on ? Promise.resolve() : Promise.reject(new Error("off"));
 *   }
 *   unreachable() {
 *     return true;
 *   }
 *   override add(key: string, amount: number, windowMs: number) {
 *     return this.on ? super.add(key, amount, windowMs) : Promise.reject(new Error("off"));
 *   }
 * }
 * const inner = new Switchable();
 * const store = new FailFastStore(inner, { probeMs: 20 });
 * inner.on = false;
 * await assert.rejects(store.add("requests:openai:alice", 1, 60_000), StoreUnavailable);
 * assert.ok(store.down);
 * inner.on = true;
 * while (store.down) await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.equal((await store.add("requests:openai:alice", 1, 60_000)).count, 1);
 * await store.close();
 * ```
 */
export class FailFastStore implements LimitStore {
  readonly #inner: LimitStore & Reachable;
  readonly #probeMs: number;
  readonly #probeTimeoutMs: number;
  /** Set while the store is known to be down: what operations are refused with. */
  #down?: StoreUnavailable;
  #timer?: ReturnType<typeof setTimeout>;
  #probing = false;
  #closed = false;
  /** Operations in flight, refused at once when the store is found down. */
  readonly #pending = new Set<Failer>();
  /** Settles and releases asked for while down, for the store's return. */
  #deferred: (() => Promise<void>)[] = [];

  constructor(inner: LimitStore & Reachable, options: FailFastOptions = {}) {
    this.#inner = inner;
    this.#probeMs = options.probeMs ?? 200;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 1_000;
    const watcher: StoreWatcher = {
      lost: (cause) => this.#markDown(cause),
      back: () => void this.#probe(),
    };
    inner.watch?.(watcher);
  }

  /** True while the store is known to be down. */
  get down(): boolean {
    return this.#down !== undefined;
  }

  add(key: string, amount: number, windowMs: number): Promise<WindowCount> {
    return this.#run(() => this.#inner.add(key, amount, windowMs));
  }

  read(key: string, windowMs: number): Promise<WindowCount> {
    return this.#run(() => this.#inner.read(key, windowMs));
  }

  acquire(key: string, max: number, ttlMs: number): Promise<string | undefined> {
    return this.#run(() => this.#inner.acquire(key, max, ttlMs));
  }

  release(key: string, slot: string): Promise<void> {
    if (this.#down) return this.#defer(() => this.#inner.release(key, slot));
    return this.#run(() => this.#inner.release(key, slot));
  }

  addRouteCounts(
    route: string,
    counts: RouteCounts,
    bucketMs: number,
    keepMs: number,
    at?: number,
  ): Promise<void> {
    return this.#run(() => this.#inner.addRouteCounts(route, counts, bucketMs, keepMs, at));
  }

  readRouteCounts(
    route: string,
    bucketMs: number,
    buckets: number,
    now?: number,
  ): Promise<RouteCounts[]> {
    return this.#run(() => this.#inner.readRouteCounts(route, bucketMs, buckets, now));
  }

  reserve(key: string, amount: number, limit: number, windowMs: number): Promise<Reservation> {
    return this.#run(() => this.#inner.reserve(key, amount, limit, windowMs));
  }

  settle(key: string, delta: number, windowMs: number, window: number): Promise<void> {
    if (this.#down) return this.#defer(() => this.#inner.settle(key, delta, windowMs, window));
    return this.#run(() => this.#inner.settle(key, delta, windowMs, window));
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.#run(() => this.#inner.claim(key, ttlMs));
  }

  note(set: string, member: string, windowMs: number): Promise<void> {
    return this.#run(() => this.#inner.note(set, member, windowMs));
  }

  members(set: string, windowMs: number, limit?: number): Promise<string[]> {
    return this.#run(() => this.#inner.members(set, windowMs, limit));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deferred = [];
    await this.#inner.close();
  }

  /** Runs `op` unless the store is down; refuses it at once if the store is found down. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    if (this.#down) return Promise.reject(this.#down);
    return new Promise<T>((resolve, reject) => {
      const fail: Failer = (error) => {
        this.#pending.delete(fail);
        reject(error);
      };
      this.#pending.add(fail);
      op().then(
        (value) => {
          this.#pending.delete(fail);
          resolve(value);
        },
        (error) => {
          if (!this.#closed && this.#inner.unreachable(error)) {
            this.#markDown(error);
            fail(new StoreUnavailable("The limit store cannot be reached", { cause: error }));
          } else fail(error);
        },
      );
    });
  }

  #defer(op: () => Promise<void>): Promise<void> {
    if (this.#deferred.length >= DEFERRED_CAP) this.#deferred.shift();
    this.#deferred.push(op);
    return Promise.resolve();
  }

  #markDown(cause?: unknown) {
    if (this.#closed) return;
    if (!this.#down) {
      this.#down = new StoreUnavailable("The limit store is down", { cause });
      this.#schedule();
    }
    const down = this.#down;
    for (const fail of [...this.#pending]) fail(down);
  }

  #schedule() {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#probe();
    }, this.#probeMs);
    platform.unrefTimer(this.#timer);
  }

  /** Pings a down store: up again when it answers, probed again later when it does not. */
  async #probe() {
    if (this.#probing || !this.#down || this.#closed) return;
    this.#probing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#inner.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("no answer")), this.#probeTimeoutMs);
          platform.unrefTimer(timer);
        }),
      ]);
      this.#up();
    } catch {
      // still down
    } finally {
      clearTimeout(timer);
      this.#probing = false;
    }
    if (this.#down) this.#schedule();
  }

  #up() {
    if (this.#closed) return;
    this.#down = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const op of deferred) void op().catch(() => {});
  }
}
