import assert from "node:assert/strict";
import { parseDuration, parseRate, parseSize } from "./units.ts";

Deno.test("parseDuration reads ms, s, m, h, d and bare seconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("120s"), 120_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration(30), 30_000);
  assert.throws(() => parseDuration("soon"), /Cannot parse duration "soon"/);
});

Deno.test("parseSize reads powers of 1024", () => {
  assert.equal(parseSize("1mb"), 1_048_576);
  assert.equal(parseSize("512KB"), 524_288);
  assert.equal(parseSize(100), 100);
  assert.throws(() => parseSize("lots"), /Cannot parse size "lots"/);
});

Deno.test("parseRate reads N/unit and N/Kunit", () => {
  assert.deepEqual(parseRate("60/min"), { limit: 60, windowMs: 60_000 });
  assert.deepEqual(parseRate("100/hour"), { limit: 100, windowMs: 3_600_000 });
  assert.deepEqual(parseRate("5/s"), { limit: 5, windowMs: 1000 });
  assert.deepEqual(parseRate("1000/10min"), { limit: 1000, windowMs: 600_000 });
  assert.throws(() => parseRate("60 per minute"), /Cannot parse rate/);
});
