/**
 * Adaptive difficulty. Challenges issued are counted in the store in 10-second buckets, per
 * address prefix and for the whole gateway, so every instance sharing the store sees the same
 * counts; each new challenge is priced from the last minute's:
 *
 * - a prefix asking more than 6 a minute pays ×2 for every 4 more (10 a minute ×2, 14 ×4,
 *   30 ×64): a few dozen a minute from one /24 is never an ordinary visitor;
 * - the whole gateway asking more than twice its usual rate pays the ratio (up to ×32), where
 *   usual is a slow average (an hour's time constant, at least 30 a minute) whose input is
 *   capped, so a burst cannot teach it that bursts are usual;
 * - together at most ×256.
 *
 * It rises on the next challenge after a burst starts (a burst is visible before any of its
 * solutions come back) and is back to the base a minute after it stops. It is a brake, not a
 * wall: `per_address` and `limits.route` are the walls.
 *
 * @module
 */
import type { LimitStore } from "../store/store.ts";

const BUCKET_MS = 10_000;
const BUCKETS = 6;
/** Buckets are kept past the minute they are read over. */
const KEEP_MS = 70_000;
const PREFIX_FREE = 6;
const PREFIX_STEP = 4;
const ROUTE_FLOOR = 30;
const ROUTE_MAX = 32;
const MAX_FACTOR = 256;
const BASELINE_TAU_MS = 3_600_000;
/** The key of the gateway-wide count (no prefix holds a `*`). */
const ALL = "*";

/**
 * The difficulty factor of a prefix that asked `perMinute` challenges in the last minute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prefixFactor } from "./difficulty.ts";
 *
 * assert.equal(prefixFactor(6), 1);
 * assert.equal(prefixFactor(30), 64);
 * ```
 */
export function prefixFactor(perMinute: number): number {
  return 2 ** (Math.max(0, perMinute - PREFIX_FREE) / PREFIX_STEP);
}

/**
 * The difficulty factor of the gateway asked `perMinute`, when `baseline` a minute is usual.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { routeFactor } from "./difficulty.ts";
 *
 * assert.equal(routeFactor(40, 20), 1); // under twice the floor of 30 a minute
 * assert.equal(routeFactor(600, 30), 10);
 * ```
 */
export function routeFactor(perMinute: number, baseline: number): number {
  return Math.min(ROUTE_MAX, Math.max(1, perMinute / (2 * Math.max(baseline, ROUTE_FLOOR))));
}

/** Prices challenges from the counts of those issued before. */
export class Difficulty {
  readonly #store: LimitStore;
  readonly #base: number;
  #baseline = 0;
  #updated?: number;

  /**
   * Difficulty starting from `base` (expected attempts when all is calm), counted in `store`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryStore } from "../store/memory.ts";
   * import { Difficulty } from "./difficulty.ts";
   *
   * const difficulty = new Difficulty(new MemoryStore(), 3000);
   * const now = Date.now();
   * const prices = [];
   * for (let i = 0; i < 14; i++) prices.push(await difficulty.issue("203.0.113.0/24", now));
   * assert.equal(prices[0], 3000); // calm
   * assert.equal(prices[13], 12000); // the 14th in a minute from one /24: ×4
   * assert.equal(await difficulty.issue("203.0.113.0/24", now + 120_000), 3000); // calm again
   * ```
   */
  constructor(store: LimitStore, base: number) {
    this.#store = store;
    this.#base = base;
  }

  /** The base difficulty, when all is calm. */
  get base(): number {
    return this.#base;
  }

  /** Counts a challenge for `prefix` and answers its difficulty. */
  async issue(prefix: string, now = Date.now()): Promise<number> {
    // The status page's bucket counters, under keys no route can have (a route name holds no
    // ":"); every field a store's counts may hold is named (spend among them), nothing counted.
    const one = { requests: 1, errors: 0, tokens: 0, spend: 0 };
    await Promise.all([
      this.#store.addRouteCounts(key(prefix), one, BUCKET_MS, KEEP_MS, now),
      this.#store.addRouteCounts(key(ALL), one, BUCKET_MS, KEEP_MS, now),
    ]);
    const [own, all] = await Promise.all([
      this.#store.readRouteCounts(key(prefix), BUCKET_MS, BUCKETS, now),
      this.#store.readRouteCounts(key(ALL), BUCKET_MS, BUCKETS, now),
    ]);
    const perPrefix = own.reduce((sum, bucket) => sum + bucket.requests, 0);
    const perRoute = all.reduce((sum, bucket) => sum + bucket.requests, 0);
    const factor = Math.min(
      MAX_FACTOR,
      prefixFactor(perPrefix) * routeFactor(perRoute, this.#learn(perRoute, now)),
    );
    return Math.max(1, Math.round(this.#base * factor));
  }

  /** Folds the last minute's count into the usual rate; answers the rate before it. */
  #learn(perMinute: number, now: number): number {
    const before = this.#baseline;
    const since = this.#updated === undefined ? 0 : Math.max(0, now - this.#updated);
    this.#updated = now;
    const input = Math.min(perMinute, 2 * before + ROUTE_FLOOR);
    this.#baseline += (1 - Math.exp(-since / BASELINE_TAU_MS)) * (input - before);
    return before;
  }
}

function key(prefix: string): string {
  return `visitors:${prefix}`;
}
