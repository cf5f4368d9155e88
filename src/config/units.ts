/**
 * Parsers for the human units routes.yaml speaks: durations (`120s`), sizes (`1mb`) and
 * rates (`60/min`). Each returns a plain number (or pair) so nothing is parsed per request.
 *
 * @module
 */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/i;
const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration such as `500ms`, `30s`, `2m`, `1h` or `1d` into milliseconds.
 * A bare number is seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./units.ts";
 *
 * assert.equal(parseDuration("120s"), 120_000);
 * assert.equal(parseDuration(30), 30_000); // a bare number is seconds
 * ```
 */
export function parseDuration(text: string | number): number {
  if (typeof text === "number") return text * 1000;
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw new Error(`Cannot parse duration "${text}": use a number with ms, s, m, h or d`);
  }
  return Math.round(Number(match[1]) * DURATION_MS[(match[2] ?? "s").toLowerCase()]);
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?$/i;
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a size such as `512kb`, `1mb` or `2gb` (powers of 1024) into bytes.
 * A bare number is bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSize } from "./units.ts";
 *
 * assert.equal(parseSize("1mb"), 1_048_576);
 * assert.equal(parseSize(512), 512); // a bare number is bytes
 * ```
 */
export function parseSize(text: string | number): number {
  if (typeof text === "number") return text;
  const match = SIZE.exec(text.trim());
  if (!match) throw new Error(`Cannot parse size "${text}": use a number with b, kb, mb or gb`);
  return Math.floor(Number(match[1]) * SIZE_BYTES[(match[2] ?? "b").toLowerCase()]);
}

/** A rate: at most `limit` events per `windowMs` milliseconds. */
export interface Rate {
  /** How many events a window allows. */
  limit: number;
  /** The window's length in milliseconds. */
  windowMs: number;
}

const RATE = /^(\d+)\s*\/\s*(\d+\s*)?(ms|s|sec|second|m|min|minute|h|hour|d|day)$/i;
const RATE_UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/**
 * Parses a rate such as `60/min`, `100/hour`, `5/s` or `1000/10min`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRate } from "./units.ts";
 *
 * assert.deepEqual(parseRate("60/min"), { limit: 60, windowMs: 60_000 });
 * assert.deepEqual(parseRate("1000/10min"), { limit: 1000, windowMs: 600_000 });
 * ```
 */
export function parseRate(text: string): Rate {
  const match = RATE.exec(text.trim());
  if (!match) {
    throw new Error(`Cannot parse rate "${text}": use N/s, N/min, N/hour or N/day`);
  }
  const times = match[2] ? Number(match[2]) : 1;
  const windowMs = times * RATE_UNIT_MS[match[3].toLowerCase()];
  if (windowMs <= 0) throw new Error(`Cannot parse rate "${text}": the window is empty`);
  return { limit: Number(match[1]), windowMs };
}

/** Money is counted in integer units of 1e-8 USD: exact, and far inside a safe integer. */
export const USD_UNITS = 100_000_000;

const USD = /^\$?\s*(\d+)(?:\.(\d{1,8}))?$/;

/**
 * Parses a dollar amount such as `$2`, `$0.05` or `2.50` into units of 1e-8 USD, exactly
 * (no floating point on the way): at most 8 decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUsd } from "./units.ts";
 *
 * assert.equal(parseUsd("$2.50"), 250_000_000);
 * assert.equal(parseUsd("$0.00000001"), 1);
 * ```
 */
export function parseUsd(text: string): number {
  const match = USD.exec(text.trim());
  if (!match) {
    throw new Error(`Cannot parse amount "${text}": use dollars with up to 8 decimals, as $2.50`);
  }
  const units = Number(match[1]) * USD_UNITS + Number((match[2] ?? "").padEnd(8, "0"));
  if (!Number.isSafeInteger(units)) throw new Error(`Cannot parse amount "${text}": too large`);
  return units;
}

/**
 * Parses a spend rate such as `$2/day` or `$0.50/hour`: its `limit` is in units of 1e-8 USD.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpendRate } from "./units.ts";
 *
 * assert.deepEqual(parseSpendRate("$2/day"), { limit: 200_000_000, windowMs: 86_400_000 });
 * ```
 */
export function parseSpendRate(text: string): Rate {
  const slash = text.indexOf("/");
  if (slash === -1) {
    throw new Error(`Cannot parse spend rate "${text}": use $N/s, $N/min, $N/hour or $N/day`);
  }
  const limit = parseUsd(text.slice(0, slash));
  const { windowMs } = parseRate(`1/${text.slice(slash + 1)}`);
  return { limit, windowMs };
}
