/**
 * The counter store behind limits: fixed-window counters (requests, tokens, spend) and
 * in-flight slots (concurrency), kept in process memory, Deno KV, Redis or a Redis Cluster.
 * Every operation is atomic in its store, so a limit of N holds at N across every gateway
 * sharing the store. The factory that picks one is in open_store.ts.
 *
 * Keys are named `kind:scope` (`tokens:openai:alice`, `clients:openai`): a Redis store puts
 * every key of one scope on one cluster slot (see redis_keys.ts), so name the keys of one
 * route and client with the same scope. Amounts are integers up to 2^53 (spend is counted in
 * units of 1e-8 USD); every store keeps them exact.
 *
 * @module
 */

/** A window's count after an operation. */
export interface WindowCount {
  /** The window's total. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  resetMs: number;
}

/** Where limit counters live. */
export interface LimitStore {
  /** Adds `amount` to `key`'s counter in the current window of `windowMs`; returns the total. */
  add(key: string, amount: number, windowMs: number): Promise<WindowCount>;
  /** Reads `key`'s counter in the current window without changing it. */
  read(key: string, windowMs: number): Promise<WindowCount>;
  /**
   * Takes one of `max` in-flight slots of `key`: resolves to the slot's id, or undefined when
   * all are taken. A slot not given back within `ttlMs` (its instance crashed) is freed.
   */
  acquire(key: string, max: number, ttlMs: number): Promise<string | undefined>;
  /** Gives back a slot taken by {@linkcode LimitStore.acquire}. */
  release(key: string, slot: string): Promise<void>;
  /**
   * Adds `counts` to `route`'s counters in the bucket of `bucketMs` that holds `at` (now by
   * default); the bucket is kept at least `keepMs`. For the status page, not for limits.
   */
  addRouteCounts(
    route: string,
    counts: RouteCounts,
    bucketMs: number,
    keepMs: number,
    at?: number,
  ): Promise<void>;
  /**
   * Reads `route`'s counters in the last `buckets` buckets of `bucketMs`, oldest first, the
   * last being the one that holds `now` (now by default); a bucket never added to reads zero.
   */
  readRouteCounts(
    route: string,
    bucketMs: number,
    buckets: number,
    now?: number,
  ): Promise<RouteCounts[]>;
  /**
   * Adds `amount` to `key`'s counter in the current window of `windowMs` only if the total
   * stays within `limit`, in one atomic step: concurrent reservations never together pass the
   * limit. See {@linkcode Reservation}.
   */
  reserve(key: string, amount: number, limit: number, windowMs: number): Promise<Reservation>;
  /**
   * Adds `delta` (negative to give back) to `key`'s counter in the window that started at
   * `window` (a {@linkcode Reservation.window}), never below zero; nothing once that window
   * has ended.
   */
  settle(key: string, delta: number, windowMs: number, window: number): Promise<void>;
  /**
   * Marks `key` used for `ttlMs`: true for the first caller only, false for every caller
   * until it expires (single-use tokens).
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Records `member` (a client id) in `set` for the current window of `windowMs`; a member
   * noted twice is kept once. Memory and Redis keep at most {@linkcode MEMBERS_CAP} members
   * a window (those noted once it is full are not recorded); Deno KV keeps one small key per
   * member, expiring with the window. One atomic round trip, cheap enough to call on every
   * request.
   */
  note(set: string, member: string, windowMs: number): Promise<void>;
  /**
   * The members of `set` noted in the current window of `windowMs`, at most `limit`
   * ({@linkcode MEMBERS_CAP} by default and at most), in no particular order.
   */
  members(set: string, windowMs: number, limit?: number): Promise<string[]>;
  /** Closes connections and files. */
  close(): Promise<void>;
}

/**
 * The most members a window of a set keeps (and lists): see {@linkcode LimitStore.note}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory.ts";
 * import { MEMBERS_CAP } from "./store.ts";
 *
 * const store = new MemoryStore();
 * for (let i = 0; i < MEMBERS_CAP + 5; i++) await store.note("clients:openai", `c${i}`, 60_000);
 * assert.equal((await store.members("clients:openai", 60_000)).length, MEMBERS_CAP);
 * ```
 */
export const MEMBERS_CAP = 1_000;

/**
 * How many members a listing returns for a requested `limit`: 0 to {@linkcode MEMBERS_CAP}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MEMBERS_CAP, membersLimit } from "./store.ts";
 *
 * assert.equal(membersLimit(), MEMBERS_CAP);
 * assert.equal(membersLimit(10), 10);
 * assert.equal(membersLimit(1e9), MEMBERS_CAP);
 * ```
 */
export function membersLimit(limit = MEMBERS_CAP): number {
  return Math.max(0, Math.min(MEMBERS_CAP, Math.floor(limit)));
}

/**
 * What a store that can be down (a server, a remote database) tells the fail-fast wrapper
 * (`FailFastStore`, fail_fast.ts), so that requests need not each find out by waiting.
 *
 * @example
 * ```ts
 * import { FailFastStore } from "./fail_fast.ts";
 * import { MemoryStore } from "./memory.ts";
 * import type { Reachable } from "./store.ts";
 *
 * class AlwaysThere extends MemoryStore implements Reachable {
 *   ping() {
 *     return Promise.resolve();
 *   }
 *   unreachable(error: unknown) {
 *     return (error as Error).name === "ConnectionLost";
 *   }
 * }
 * const store = new FailFastStore(new AlwaysThere());
 * await store.add("requests:openai:alice", 1, 60_000);
 * await store.close();
 * ```
 */
export interface Reachable {
  /** Resolves when the store answers (a Redis PING); rejects or hangs when it does not. */
  ping(): Promise<void>;
  /**
   * True when `error`, thrown by an operation, says the store could not be reached (a lost
   * connection, a timeout), not that it answered with an error.
   */
  unreachable(error: unknown): boolean;
  /**
   * Registers `watcher`: the store calls `lost` when its connection drops (so operations in
   * flight need not wait for their timeout) and `back` when it connects again.
   */
  watch?(watcher: StoreWatcher): void;
}

/** What {@linkcode Reachable.watch} calls. */
export interface StoreWatcher {
  /** The connection dropped (or could not be made). */
  lost(cause?: unknown): void;
  /** The connection is back. */
  back(): void;
}

/** What a route served in one time bucket (for the status page). */
export interface RouteCounts {
  /** Requests answered. */
  requests: number;
  /** Of those, answered with a status of 400 or more. */
  errors: number;
  /** Upstream-reported tokens. */
  tokens: number;
  /** Dollars charged, in units of 1e-8 USD (on routes that count dollars). */
  spend: number;
}

/** The starts of the last `buckets` buckets of `bucketMs` up to the one holding `now`. */
export function bucketStarts(bucketMs: number, buckets: number, now = Date.now()): number[] {
  const last = now - (now % bucketMs);
  return Array.from({ length: buckets }, (_, i) => last - (buckets - 1 - i) * bucketMs);
}

/**
 * The bucket of `bucketMs` that holds `at`, and how many milliseconds a shared store should
 * keep it (at least `keepMs` past its start, plus a second of slack); `keepFor` is 0 or less
 * once it is no longer worth writing.
 */
export function bucketOf(at: number, bucketMs: number, keepMs: number) {
  const start = at - (at % bucketMs);
  return { start, keepFor: start + Math.max(keepMs, bucketMs) - Date.now() + 1_000 };
}

/** What {@linkcode LimitStore.reserve} did. */
export interface Reservation {
  /** True when the amount fitted and was added. */
  ok: boolean;
  /** The window's total after the operation (without the amount when it did not fit). */
  count: number;
  /** Milliseconds until the window ends. */
  resetMs: number;
  /** The window's start: where {@linkcode LimitStore.settle} must settle the reservation. */
  window: number;
}

let slotSequence = 0;
const instance = crypto.randomUUID().slice(0, 8);

/** A slot id unique across instances sharing a store. */
export function newSlotId(): string {
  slotSequence = (slotSequence + 1) % 0x100000000;
  return `${instance}.${slotSequence.toString(36)}`;
}

/** The fixed window holding `now`: its start (part of every counter key) and its end. */
export function windowOf(windowMs: number, now = Date.now()): { start: number; resetMs: number } {
  const start = now - (now % windowMs);
  return { start, resetMs: start + windowMs - now };
}
