import assert from "node:assert/strict";
import { unwatch, watch, type Watched, watchedCount } from "./watchdog.ts";

function entry(inMs: number, onTick: (self: Watched, now: number) => void = () => {}) {
  const expired = Promise.withResolvers<number>();
  const self: Watched = {
    deadline: performance.now() + inMs,
    tick: (now) => onTick(self, now),
    expire: () => expired.resolve(performance.now()),
  };
  return { self, expired: expired.promise };
}

Deno.test("entries expire at their deadline, each once, and the timer stops when none is left", async () => {
  const start = performance.now();
  const soon = entry(30);
  const later = entry(80);
  watch(later.self);
  watch(soon.self);
  assert.equal(watchedCount(), 2);
  const soonAt = await soon.expired;
  const laterAt = await later.expired;
  assert.ok(soonAt - start >= 29 && soonAt - start < 500, `soon expired after ${soonAt - start}`);
  assert.ok(
    laterAt - start >= 79 && laterAt - start < 550,
    `later expired after ${laterAt - start}`,
  );
  assert.equal(watchedCount(), 0);
});

Deno.test("a tick may push the deadline back, and an unwatched entry never expires", async () => {
  let pushes = 2;
  const pushed = entry(20, (self, now) => {
    if (pushes-- > 0) self.deadline = now + 20;
  });
  const dropped = entry(10);
  const start = performance.now();
  watch(pushed.self);
  watch(dropped.self);
  unwatch(dropped.self);
  const at = await pushed.expired;
  assert.ok(at - start >= 40, `expired after ${at - start} ms, after two pushes`);
  assert.equal(watchedCount(), 0);
});
