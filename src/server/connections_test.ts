import assert from "node:assert/strict";
import { ConnectionSet } from "./connections.ts";

Deno.test("a connection with no request in flight is closed past its deadline, a busy one never", () => {
  const connections = new ConnectionSet({ header: 1000, idle: 500 });
  try {
    const now = performance.now();
    const quiet = connections.open();
    const busy = connections.open();
    busy.begin();
    assert.equal(connections.sweep(now + 900), 0, "closed before the header timeout");
    assert.equal(connections.sweep(now + 1100), 1);
    assert.ok(quiet.controller.signal.aborted);
    assert.equal(busy.controller.signal.aborted, false, "a request in flight was cut");
    assert.equal(connections.sweep(now + 1_000_000), 0, "a request in flight was cut");

    // Once its response is delivered, the idle timeout runs from then.
    const ended = performance.now();
    busy.end();
    assert.equal(busy.served, 1);
    assert.equal(connections.sweep(ended + 400), 0, "closed before the idle timeout");
    assert.equal(connections.sweep(ended + 600), 1);
    assert.ok(busy.controller.signal.aborted);
  } finally {
    connections.stop();
  }
});

Deno.test("shedding closes quiet connections that never finished a request first, oldest first", () => {
  const connections = new ConnectionSet({ header: 60_000, idle: 60_000 });
  try {
    const kept = connections.open();
    kept.begin();
    kept.end(); // served one request, now idle
    const busy = connections.open();
    busy.begin();
    const first = connections.open();
    const second = connections.open();
    assert.equal(connections.shed(1), 1);
    assert.ok(first.controller.signal.aborted);
    assert.equal(second.controller.signal.aborted, false);
    assert.equal(connections.shed(5), 2, "the busy connection is never shed");
    assert.ok(second.controller.signal.aborted && kept.controller.signal.aborted);
    assert.equal(busy.controller.signal.aborted, false);
    connections.remove(first);
    assert.equal(connections.size, 3);
  } finally {
    connections.stop();
  }
});
