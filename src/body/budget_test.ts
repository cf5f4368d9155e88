import assert from "node:assert/strict";
import { BodyBudget } from "./budget.ts";
import { BodyBudgetFull, BodyTooLarge, readHeld } from "./cap.ts";

function stream(chunks: number[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((n) => new Uint8Array(n).fill(0x61)));
}

Deno.test("BodyBudget: leases fit or are refused; release gives back every byte once", () => {
  const budget = new BodyBudget(100);
  const a = budget.lease(60)!;
  assert.equal(budget.lease(41), undefined);
  const b = budget.lease(40)!;
  assert.equal(budget.held, 100);
  assert.equal(b.grow(41), false, "no room left");
  a.release();
  a.release();
  assert.equal(budget.held, 40);
  assert.equal(b.grow(90), true);
  b.resize(95);
  assert.equal(budget.held, 95);
  b.release();
  assert.equal(budget.held, 0);
  b.resize(10);
  assert.equal(budget.held, 0, "a released lease holds nothing");
});

Deno.test("readHeld: holds bytes as they come, refuses past the cap or the budget, and lets go", async () => {
  const budget = new BodyBudget(1000);
  const lease = budget.lease(0)!;
  const bytes = await readHeld(stream([100, 200, 50]), 400, lease);
  assert.equal(bytes.byteLength, 350);
  assert.equal(budget.held, 350);
  lease.release();

  const declared = budget.lease(300)!;
  assert.equal((await readHeld(stream([100, 200]), 400, declared, 300)).byteLength, 300);
  assert.equal(budget.held, 300, "a declared length is held once, not again per chunk");
  declared.release();

  const big = budget.lease(0)!;
  await assert.rejects(readHeld(stream([300, 300]), 500, big), BodyTooLarge);
  assert.equal(budget.held, 300, "what was read before the cap is held until released");
  const other = budget.lease(600)!;
  const small = budget.lease(0)!;
  await assert.rejects(readHeld(stream([50, 200]), 5000, small), BodyBudgetFull);
  for (const lease of [big, other, small]) lease.release();
  assert.equal(budget.held, 0);
});
