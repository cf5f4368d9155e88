import assert from "node:assert/strict";
import { decimalOf, MAX_UNITS, parseSpendRate, parseUsd } from "./config/units.ts";
import { formatUsd } from "./usd.ts";

Deno.test("parseUsd reads dollars with or without $, to the unit of 1e-8", () => {
  assert.equal(parseUsd("$2.50"), 250_000_000);
  assert.equal(parseUsd("$2"), 200_000_000);
  assert.equal(parseUsd("2.5"), 250_000_000);
  assert.equal(parseUsd(" $0.075 "), 7_500_000);
  assert.equal(parseUsd("$0.00000001"), 1);
  assert.equal(parseUsd("$0"), 0);
  assert.equal(parseUsd(2.5), 250_000_000);
  assert.equal(parseUsd(1e-7), 10);
  assert.equal(parseUsd("$90071992.54740991"), MAX_UNITS);
});

Deno.test("parseUsd refuses what is not a plain, non-negative amount of at most 8 decimals", () => {
  for (const text of ["-$1", "$-1", "$1e3", "1,000", "$", "", "two", "$.5", "$2.", "$ 2", "$2 a"]) {
    assert.throws(() => parseUsd(text), /Cannot parse amount/, text);
  }
  assert.throws(() => parseUsd("$0.123456789"), /at most 8 decimals/);
  assert.throws(() => parseUsd(-1), /Cannot parse amount/);
  assert.throws(() => parseUsd(Number.NaN), /Cannot parse amount/);
  assert.throws(() => parseUsd("$90071992.54740992"), /amounts stop at/);
});

Deno.test("decimalOf writes numbers as exact decimals, exponents spelled out", () => {
  assert.equal(decimalOf(0.075), "0.075");
  assert.equal(decimalOf(1e-7), "0.0000001");
  assert.equal(decimalOf(1.25e-7), "0.000000125");
  assert.equal(decimalOf(1e21), "1000000000000000000000");
  assert.equal(decimalOf(-1), undefined);
  assert.equal(decimalOf(Infinity), undefined);
});

Deno.test("parseSpendRate reads $N/unit and $N/Kunit with the windows of limits.requests", () => {
  assert.deepEqual(parseSpendRate("$2/day"), { limit: 200_000_000, windowMs: 86_400_000 });
  assert.deepEqual(parseSpendRate("$0.50/hour"), { limit: 50_000_000, windowMs: 3_600_000 });
  assert.deepEqual(parseSpendRate("1/min"), { limit: 100_000_000, windowMs: 60_000 });
  assert.deepEqual(parseSpendRate("$10/2day"), { limit: 1_000_000_000, windowMs: 172_800_000 });
  assert.deepEqual(parseSpendRate("$5 / s"), { limit: 500_000_000, windowMs: 1000 });
  assert.throws(() => parseSpendRate("$2"), /Cannot parse spend "\$2": use \$N\/s/);
  assert.throws(() => parseSpendRate("$2/fortnight"), /Cannot parse spend/);
  assert.throws(() => parseSpendRate("$0.123456789/day"), /at most 8 decimals/);
  assert.throws(() => parseSpendRate("-$2/day"), /Cannot parse spend "-\$2\/day"/);
});

Deno.test("formatUsd writes exact amounts, or 2 significant digits rounded the safe way", () => {
  assert.equal(formatUsd(200_000_000), "$2.00");
  assert.equal(formatUsd(0), "$0.00");
  assert.equal(formatUsd(14_400), "$0.000144");
  assert.equal(formatUsd(33_690), "$0.0003369");
  assert.equal(formatUsd(75_000_000_000n), "$750.00");
  assert.equal(formatUsd(421_337, "up"), "$0.0043");
  assert.equal(formatUsd(421_337, "down"), "$0.0042");
  assert.equal(formatUsd(420_000, "up"), "$0.0042", "an amount that fits is not rounded");
  assert.equal(formatUsd(100_000, "down"), "$0.0010");
  assert.equal(formatUsd(199_999_999, "up"), "$2.00");
  assert.equal(formatUsd(199_999_999, "down"), "$1.99");
  assert.equal(formatUsd(5_000_000_001, "up"), "$50.01");
  assert.equal(formatUsd(3, "up"), "$0.00000003");
  assert.equal(formatUsd(-50_000_000), "-$0.50");
  assert.equal(formatUsd(-421_337, "down"), "-$0.0043");
});

Deno.test("formatUsd never shows a cost below what it is, nor a remainder above", () => {
  for (let units = 1; units < 3_000_000_000; units = Math.ceil(units * 1.37) + 7) {
    const up = parseUsd(formatUsd(units, "up").slice(1));
    const down = parseUsd(formatUsd(units, "down").slice(1));
    assert.ok(up >= units && down <= units, `${units}: ${up} ${down}`);
    assert.equal(parseUsd(formatUsd(units).slice(1)), units);
  }
});
