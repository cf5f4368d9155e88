/**
 * The memory budget for request bodies held whole so the body rules can read them: one
 * count of bytes across every request at once, so a crowd of large bodies is answered
 * with 503 instead of exhausting the process. A request takes a lease (by its declared
 * length when it has one, before any byte is read; else as its bytes arrive) and gives it
 * back on every path: answered, refused, failed or hung up.
 *
 * @module
 */

import { DEFAULT_BODY_MEMORY } from "../config/defaults.ts";

/** Bytes held for body rules across all requests of a gateway. */
export class BodyBudget {
  /** The most bytes that may be held at once. */
  readonly limit: number;
  #held = 0;

  /** A budget of `limit` bytes. */
  constructor(limit: number = DEFAULT_BODY_MEMORY) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /**
   * Takes a lease of `bytes`; undefined when they do not fit beside what is held.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BodyBudget } from "./budget.ts";
   *
   * const budget = new BodyBudget(1024);
   * const lease = budget.lease(1000);
   * assert.ok(lease);
   * assert.equal(budget.lease(100), undefined); // no room beside the first body: answer 503
   * lease.release(); // on every path: answered, refused, failed or hung up
   * assert.equal(budget.held, 0);
   * ```
   */
  lease(bytes: number): BodyLease | undefined {
    if (!this.take(bytes)) return undefined;
    return new BodyLease(this, bytes);
  }

  /** Takes `bytes` if they fit. Used by leases. */
  take(bytes: number): boolean {
    if (bytes > this.limit - this.#held) return false;
    this.#held += bytes;
    return true;
  }

  /** Adds or gives back `bytes` whether or not they fit. Used by leases. */
  adjust(bytes: number): void {
    this.#held += bytes;
  }
}

/** Bytes one request holds in a {@linkcode BodyBudget}. */
export class BodyLease {
  #budget: BodyBudget | undefined;
  #bytes: number;

  /** Made by {@linkcode BodyBudget.lease}. */
  constructor(budget: BodyBudget, bytes: number) {
    this.#budget = budget;
    this.#bytes = bytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Holds `total` bytes if the budget has room for the difference; false if not. */
  grow(total: number): boolean {
    const budget = this.#budget;
    if (!budget || total <= this.#bytes) return true;
    if (!budget.take(total - this.#bytes)) return false;
    this.#bytes = total;
    return true;
  }

  /** Holds exactly `total` bytes (a rewritten body differs a little from the one read). */
  resize(total: number): void {
    if (!this.#budget) return;
    this.#budget.adjust(total - this.#bytes);
    this.#bytes = total;
  }

  /** Gives every byte back; later calls do nothing. */
  release(): void {
    this.#budget?.adjust(-this.#bytes);
    this.#budget = undefined;
    this.#bytes = 0;
  }
}
