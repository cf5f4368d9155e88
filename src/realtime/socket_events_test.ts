/** @module */
import assert from "node:assert/strict";
import { PendingEvents } from "./socket_events.ts";

Deno.test("events kept before a session attaches reach it in the order they came, the close last", () => {
  const pending = new PendingEvents();
  pending.message("first");
  pending.message(new Uint8Array([2]));
  pending.message("third");
  pending.closed(1000, "done");
  const heard: unknown[] = [];
  pending.attach({
    message: (data) => void heard.push(data),
    closed: (code, reason) => void heard.push({ code, reason }),
  });
  assert.deepEqual(heard, ["first", new Uint8Array([2]), "third", { code: 1000, reason: "done" }]);
});
