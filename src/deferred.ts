/**
 * A promise and its resolvers, made by hand: `Promise.withResolvers` is missing from Node 20,
 * where the library runs too.
 *
 * @module
 */

/** A promise with the functions that settle it. */
export interface Deferred<T> {
  /** The promise. */
  promise: Promise<T>;
  /** Fulfils it. */
  resolve: (value: T) => void;
  /** Rejects it. */
  reject: (reason?: unknown) => void;
}

/**
 * A new pending promise and its resolvers (what `Promise.withResolvers` gives where it exists).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferred } from "./deferred.ts";
 *
 * const answer = deferred<number>();
 * setTimeout(() => answer.resolve(42), 1);
 * assert.equal(await answer.promise, 42);
 * ```
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}
