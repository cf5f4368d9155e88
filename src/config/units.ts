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

const WINDOWS: [number, string][] = [
  [86_400_000, "day"],
  [3_600_000, "hour"],
  [60_000, "min"],
  [1000, "s"],
];

/**
 * A rate as routes.yaml writes it: `60/min`, `100/2hour`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateText } from "./units.ts";
 *
 * assert.equal(rateText({ limit: 60, windowMs: 60_000 }), "60/min");
 * assert.equal(rateText({ limit: 100, windowMs: 7_200_000 }), "100/2hour");
 * ```
 */
export function rateText({ limit, windowMs }: Rate): string {
  const [ms, unit] = WINDOWS.find(([ms]) => windowMs % ms === 0) ?? [1000, "s"];
  const count = windowMs / ms;
  return `${limit}/${count === 1 ? "" : count}${unit}`;
}

/** Units (of 1e-8 USD) in one US dollar. */
export const UNITS_PER_USD = 100_000_000;

/** The largest amount kept exactly, in units (about $90,071,992.55). */
export const MAX_UNITS = Number.MAX_SAFE_INTEGER;

const AMOUNT = /^\$?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a dollar amount into units of 1e-8 USD: `"$2.50"`, `"$2"`, `"2.5"`, `"$0.0001"`, or a
 * number of dollars (`2.5`). The `$` is optional. Refused, with a message naming the text:
 * negative amounts, more than 8 decimals (finer than a unit), exponents, thousands
 * separators, anything that is not a plain decimal, and amounts past {@linkcode MAX_UNITS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUsd } from "./units.ts";
 *
 * assert.equal(parseUsd("$2.50"), 250_000_000);
 * assert.equal(parseUsd("2"), 200_000_000);
 * assert.equal(parseUsd("$0.00000001"), 1);
 * assert.throws(() => parseUsd("$0.000000001"), /at most 8 decimals/);
 * assert.throws(() => parseUsd("-$1"));
 * ```
 */
export function parseUsd(text: string | number): number {
  const units = unitsOf(text, AMOUNT);
  if (units === undefined) {
    throw new Error(`Cannot parse amount "${text}": use dollars such as $2 or $0.50`);
  }
  if (units === "too fine") {
    throw new Error(`Cannot parse amount "${text}": use at most 8 decimals`);
  }
  if (units > BigInt(MAX_UNITS)) {
    throw new Error(`Cannot parse amount "${text}": amounts stop at $90,071,992`);
  }
  return Number(units);
}

/**
 * A decimal (text `pattern` reads as whole part and decimals, or a YAML number) in exact units
 * of 1e-8: undefined when it is none, `"too fine"` past 8 decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unitsOf } from "./units.ts";
 *
 * assert.equal(unitsOf("2.5"), 250_000_000n);
 * assert.equal(unitsOf(0.075), 7_500_000n);
 * assert.equal(unitsOf("0.000000001"), "too fine");
 * assert.equal(unitsOf("two"), undefined);
 * ```
 */
export function unitsOf(
  written: string | number,
  pattern: RegExp = /^(\d+)(?:\.(\d+))?$/,
): bigint | "too fine" | undefined {
  const text = typeof written === "number" ? decimalOf(written) : written.trim();
  const match = text === undefined ? null : pattern.exec(text);
  if (!match) return undefined;
  const decimals = match[2] ?? "";
  if (decimals.length > 8) return "too fine";
  return BigInt(match[1]) * BigInt(UNITS_PER_USD) + BigInt(decimals.padEnd(8, "0"));
}

/**
 * The exact decimal a JavaScript number is written as (`0.075` as "0.075", `1e-7` as
 * "0.0000001"), or undefined for one that is negative or not finite. YAML numbers reach the
 * config as JavaScript numbers; this reads back the decimal that was written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decimalOf } from "./units.ts";
 *
 * assert.equal(decimalOf(0.075), "0.075");
 * assert.equal(decimalOf(1.5e-7), "0.00000015");
 * assert.equal(decimalOf(-1), undefined);
 * ```
 */
export function decimalOf(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  const written = String(value);
  const exponent = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(written);
  if (!exponent) return written;
  const digits = exponent[1] + (exponent[2] ?? "");
  const point = 1 + Number(exponent[3]); // where the decimal point falls in `digits`
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Parses a spend limit such as `$2/day`, `$0.50/hour` or `$10/2day`: an amount as
 * {@linkcode parseUsd} reads it (the `$` is optional), then a window as `limits.requests`
 * writes it (s, min, hour or day, optionally with a count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpendRate } from "./units.ts";
 *
 * assert.deepEqual(parseSpendRate("$2/day"), { limit: 200_000_000, windowMs: 86_400_000 });
 * assert.deepEqual(parseSpendRate("$0.05/10min"), { limit: 5_000_000, windowMs: 600_000 });
 * assert.throws(() => parseSpendRate("$2/fortnight"), /Cannot parse spend "\$2\/fortnight"/);
 * ```
 */
export function parseSpendRate(text: string): Rate {
  const slash = text.indexOf("/");
  const hint = "use $N/s, $N/min, $N/hour or $N/day";
  if (slash === -1) throw new Error(`Cannot parse spend "${text}": ${hint}`);
  let windowMs: number;
  try {
    windowMs = parseRate(`1/${text.slice(slash + 1)}`).windowMs;
  } catch {
    throw new Error(`Cannot parse spend "${text}": ${hint}`);
  }
  let limit: number;
  try {
    limit = parseUsd(text.slice(0, slash));
  } catch (error) {
    const reason = (error as Error).message.replace(/^Cannot parse amount "[^"]*": /, "");
    throw new Error(`Cannot parse spend "${text}": ${reason}`);
  }
  return { limit, windowMs };
}
