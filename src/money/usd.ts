/**
 * Money amounts, kept exactly as integer units of 1e-8 USD (one "unit" is a hundred-millionth
 * of a dollar) in plain numbers: exact up to `Number.MAX_SAFE_INTEGER` units, about
 * $90,071,992. What routes.yaml writes (`spend: $2/day`) is parsed here, and what refusals and
 * pages show is formatted here.
 *
 * @module
 */
import { parseRate } from "../config/units.ts";

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
 * import { parseUsd } from "./usd.ts";
 *
 * assert.equal(parseUsd("$2.50"), 250_000_000);
 * assert.equal(parseUsd("2"), 200_000_000);
 * assert.equal(parseUsd("$0.00000001"), 1);
 * assert.throws(() => parseUsd("$0.000000001"), /at most 8 decimals/);
 * assert.throws(() => parseUsd("-$1"));
 * ```
 */
export function parseUsd(text: string | number): number {
  const written = typeof text === "number" ? decimalOf(text) : text.trim();
  const match = written === undefined ? null : AMOUNT.exec(written);
  if (!match) {
    throw new Error(`Cannot parse amount "${text}": use dollars such as $2 or $0.50`);
  }
  const decimals = match[2] ?? "";
  if (decimals.length > 8) {
    throw new Error(`Cannot parse amount "${text}": use at most 8 decimals`);
  }
  const units = BigInt(match[1]) * BigInt(UNITS_PER_USD) + BigInt(decimals.padEnd(8, "0"));
  if (units > BigInt(MAX_UNITS)) {
    throw new Error(`Cannot parse amount "${text}": amounts stop at $90,071,992`);
  }
  return Number(units);
}

/**
 * The exact decimal a JavaScript number is written as (`0.075` as "0.075", `1e-7` as
 * "0.0000001"), or undefined for one that is negative or not finite. YAML numbers reach the
 * config as JavaScript numbers; this reads back the decimal that was written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decimalOf } from "./usd.ts";
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

/** A spend limit: at most `limit` units of 1e-8 USD per `windowMs` milliseconds. */
export interface SpendRate {
  /** The amount a window allows, in units of 1e-8 USD. */
  limit: number;
  /** The window's length in milliseconds. */
  windowMs: number;
}

/**
 * Parses a spend limit such as `$2/day`, `$0.50/hour` or `$10/2day`: an amount as
 * {@linkcode parseUsd} reads it (the `$` is optional), then a window as `limits.requests`
 * writes it (s, min, hour or day, optionally with a count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpendRate } from "./usd.ts";
 *
 * assert.deepEqual(parseSpendRate("$2/day"), { limit: 200_000_000, windowMs: 86_400_000 });
 * assert.deepEqual(parseSpendRate("$0.05/10min"), { limit: 5_000_000, windowMs: 600_000 });
 * assert.throws(() => parseSpendRate("$2/fortnight"), /Cannot parse spend "\$2\/fortnight"/);
 * ```
 */
export function parseSpendRate(text: string): SpendRate {
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

/** Which way {@linkcode formatUsd} rounds an amount it shortens. */
export type Rounding = "up" | "down";

/**
 * Writes an amount of units as dollars.
 *
 * - Without `round`, exactly: every digit down to the unit (8 decimals), trailing zeros
 *   trimmed, never fewer than 2 decimals: `$2.00`, `$0.0042`, `$0.00421337`.
 * - With `round`, shortened to 2 significant digits (still at least 2 decimals, at most 8),
 *   rounded `"up"` or `"down"` so the text stays true: what a request could cost is shown
 *   rounded up ("could cost up to $0.0043"), what is left rounded down ("$0.0010 left").
 *   The digits kept are all shown, zeros too (`$0.0010`, `$2.00`).
 *
 * Negative amounts are written with a leading minus (`-$0.50`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatUsd } from "./usd.ts";
 *
 * assert.equal(formatUsd(200_000_000), "$2.00");
 * assert.equal(formatUsd(421_337), "$0.00421337");
 * assert.equal(formatUsd(421_337, "up"), "$0.0043");
 * assert.equal(formatUsd(109_999, "down"), "$0.0010");
 * assert.equal(formatUsd(123_456_789, "up"), "$1.24");
 * assert.equal(formatUsd(1, "up"), "$0.00000001");
 * ```
 */
export function formatUsd(units: number | bigint, round?: Rounding): string {
  let value = BigInt(units);
  const sign = value < 0n ? "-" : "";
  if (value < 0n) {
    value = -value;
    // rounding a negative amount up means towards zero: its magnitude goes down
    if (round) round = round === "up" ? "down" : "up";
  }
  let places = 8;
  if (round) {
    // The unit of the last digit kept: a cent at most, so dollars keep their cents.
    let step = 1_000_000n; // $0.01
    places = 2;
    while (step > 1n && value < step * 10n) {
      step /= 10n;
      places++;
    }
    const rest = value % step;
    if (rest !== 0n) value = round === "up" ? value - rest + step : value - rest;
  }
  const digits = value.toString().padStart(9, "0");
  const whole = digits.slice(0, -8);
  const decimals = digits.slice(-8, places - 8 || undefined).replace(/0+$/, "");
  return `${sign}$${whole}.${decimals.padEnd(round ? places : 2, "0")}`;
}
