/**
 * The counter store behind limits: fixed-window counters (requests, tokens) and in-flight
 * slots (concurrency), kept in process memory, Deno KV or Redis. Every operation is atomic in
 * its store, so a limit of N holds at N across every gateway sharing the store. The factory
 * that picks one is in open_store.ts.
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
  /** Closes connections and files. */
  close(): Promise<void>;
}

/** What a route served in one time bucket (for the status page). */
export interface RouteCounts {
  /** Requests answered. */
  requests: number;
  /** Of those, answered with a status of 400 or more. */
  errors: number;
  /** Upstream-reported tokens. */
  tokens: number;
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
