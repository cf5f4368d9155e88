/**
 * Money amounts for people: what refusals, pages and the CLI show. Amounts are kept exactly
 * as integer units of 1e-8 USD (one "unit" is a hundred-millionth of a dollar) in plain
 * numbers; what routes.yaml writes (`spend: $2/day`) is parsed by `config/units.ts`.
 *
 * @module
 */

import { type Rate, rateText } from "./config/units.ts";

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

/**
 * A spend rate as routes.yaml writes it: `$2.00/day`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spendRateText } from "./usd.ts";
 *
 * assert.equal(spendRateText({ limit: 5_000_000, windowMs: 3_600_000 }), "$0.05/hour");
 * ```
 */
export function spendRateText({ limit, windowMs }: Rate): string {
  const rate = rateText({ limit: 1, windowMs });
  return `${formatUsd(limit)}${rate.slice(rate.indexOf("/"))}`;
}
