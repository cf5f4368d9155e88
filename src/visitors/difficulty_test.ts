import assert from "node:assert/strict";
import { MemoryStore } from "../store/memory.ts";
import { Difficulty, prefixFactor, routeFactor } from "./difficulty.ts";

Deno.test("prefixFactor: six a minute free, then ×2 for every four more", () => {
  assert.deepEqual([1, 6, 10, 14, 30].map(prefixFactor), [1, 1, 2, 4, 64]);
});

Deno.test("routeFactor: past twice the usual rate (at least 30 a minute), up to ×32", () => {
  assert.equal(routeFactor(50, 0), 1);
  assert.equal(routeFactor(120, 0), 2);
  assert.equal(routeFactor(120, 60), 1);
  assert.equal(routeFactor(100_000, 60), 32);
});

Deno.test("Difficulty: rises within seconds of a burst, route-wide and per prefix, and falls back a minute after", async () => {
  const difficulty = new Difficulty(new MemoryStore(), 3000);
  const start = Date.now() - (Date.now() % 10_000) + 60 * 60_000; // a bucket edge, in an hour
  // Calm: 12 a minute from 12 prefixes for ten minutes.
  let at = start;
  for (let minute = 0; minute < 10; minute++) {
    for (let i = 0; i < 12; i++) {
      at = start + minute * 60_000 + i * 5_000;
      assert.equal(await difficulty.issue(`10.0.${i}.0/24`, at), 3000);
    }
  }
  // A burst: 600 a minute from 200 prefixes, for 30 seconds.
  const burst = start + 10 * 60_000;
  let last = 0;
  for (let i = 0; i < 300; i++) {
    last = await difficulty.issue(`10.1.${i % 200}.0/24`, burst + i * 100);
  }
  assert.ok(last >= 3000 * 4, `after 30 s of a burst a visitor pays ${last}`);
  // One prefix of it asking 30 in the same minute pays its own factor on top.
  let hot = 0;
  for (let i = 0; i < 30; i++) hot = await difficulty.issue("10.9.9.0/24", burst + 30_000 + i);
  assert.equal(hot, 3000 * 256, "capped at ×256");
  // A minute and a bit after the burst ends, calm again.
  assert.equal(await difficulty.issue("10.0.1.0/24", burst + 100_000), 3000);
});
