/**
 * The puzzle: find a decimal nonce whose argon2id hash, salted with the whole challenge text,
 * starts (its first 48 bits, big-endian) below `2^48 / difficulty`. `difficulty` is the
 * expected number of attempts, so it is linear: twice the number, twice the work. Each
 * attempt is one argon2id with 1 MiB of memory and one pass, which a GPU or a native program
 * does little faster than a browser's WebAssembly; the server checks a solution with one hash.
 *
 * @module
 */
import type { Argon2id } from "./argon2.ts";

/** The argon2id parameters of every challenge: memory in KiB, passes, lanes. */
export const PUZZLE_PARAMS = { m: 1024, t: 1, p: 1 } as const;

/** Attempts per second an ordinary device's browser makes with its workers (measured). */
export const ATTEMPTS_PER_SECOND = 1500;

/** A nonce: ASCII digits, 1 to 16 of them. */
export const NONCE = /^[0-9]{1,16}$/;

const encoder = new TextEncoder();

/**
 * The bound the leading 48 bits of a hash must be under to solve a challenge of
 * `difficulty`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threshold } from "./puzzle.ts";
 *
 * assert.equal(threshold(1), 2 ** 48); // every hash solves
 * assert.equal(threshold(4), 2 ** 46); // one in four
 * ```
 */
export function threshold(difficulty: number): number {
  return Math.floor(2 ** 48 / difficulty);
}

/**
 * The first 48 bits of `hash`, big-endian, as a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lead48 } from "./puzzle.ts";
 *
 * assert.equal(lead48(new Uint8Array([0, 0, 0, 0, 1, 2, 255])), 258);
 * ```
 */
export function lead48(hash: Uint8Array): number {
  return hash[0] * 2 ** 40 + hash[1] * 2 ** 32 + hash[2] * 2 ** 24 + hash[3] * 2 ** 16 +
    hash[4] * 2 ** 8 + hash[5];
}

/**
 * Whether `nonce` solves `challenge` (its text) at `difficulty`, with argon2id `m` and `t`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadArgon2id } from "./argon2.ts";
 * import { solves, solvePuzzle } from "./puzzle.ts";
 *
 * const argon2 = await loadArgon2id();
 * const nonce = solvePuzzle(argon2, "some.challenge.text", 4, 1024, 1);
 * assert.ok(solves(argon2, "some.challenge.text", nonce, 4, 1024, 1));
 * ```
 */
export function solves(
  argon2: Argon2id,
  challenge: string,
  nonce: string,
  difficulty: number,
  m: number,
  t: number,
): boolean {
  return lead48(argon2.hash(nonce, encoder.encode(challenge), m, t)) < threshold(difficulty);
}

/**
 * Solves a puzzle here, in one thread: for tests, scripts and programs that earn a visitor
 * token without a browser. Gives up after `maxAttempts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadArgon2id } from "./argon2.ts";
 * import { solvePuzzle } from "./puzzle.ts";
 *
 * const nonce = solvePuzzle(await loadArgon2id(), "some.challenge.text", 2, 1024, 1);
 * assert.match(nonce, /^\d+$/);
 * ```
 */
export function solvePuzzle(
  argon2: Argon2id,
  challenge: string,
  difficulty: number,
  m: number,
  t: number,
  maxAttempts = 1_000_000,
): string {
  const salt = encoder.encode(challenge);
  const below = threshold(difficulty);
  for (let nonce = 0; nonce < maxAttempts; nonce++) {
    const text = String(nonce);
    if (lead48(argon2.hash(text, salt, m, t)) < below) return text;
  }
  throw new Error(`No solution in ${maxAttempts} attempts`);
}
