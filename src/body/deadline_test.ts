import assert from "node:assert/strict";
import { BodyTimeout, readBodyWithin, watchBody } from "./deadline.ts";
import { watchedCount } from "../proxy/watchdog.ts";

const encoder = new TextEncoder();

/** A clock that counts its time-outs. */
function state(bodyTimeoutMs: number) {
  return {
    bodyTimeoutMs,
    timedOut: 0,
    bodyTimedOut() {
      this.timedOut++;
    },
  };
}

/** A body that sends `chunks` pieces `spacingMs` apart, then ends, or stalls when `stall`. */
function trickle(chunks: number, spacingMs: number, stall = false) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancelled = Promise.withResolvers<unknown>();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) {
        if (!stall) controller.close();
        return stall ? new Promise<void>(() => {}) : undefined;
      }
      return new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          controller.enqueue(encoder.encode(`${sent++}`));
          resolve();
        }, spacingMs);
      });
    },
    cancel(reason) {
      clearTimeout(timer);
      cancelled.resolve(reason);
    },
  });
  return { body, cancelled: cancelled.promise };
}

Deno.test("a body whose bytes keep coming runs on past the body timeout", async () => {
  const { body } = trickle(6, 100);
  const text = await new Response(watchBody(body, state(300))).text();
  assert.equal(text, "012345");
  assert.equal(watchedCount(), 0);
});

Deno.test("a body silent for longer than the body timeout errors, and its clock hears it once", async () => {
  const s = state(300);
  const { body, cancelled } = trickle(1, 10, true);
  const started = performance.now();
  await assert.rejects(new Response(watchBody(body, s)).text(), BodyTimeout);
  assert.ok(performance.now() - started >= 290);
  assert.ok((await cancelled) instanceof BodyTimeout, "the client's body was cancelled");
  assert.equal(s.timedOut, 1);
  assert.equal(watchedCount(), 0);
});

Deno.test("a small body read whole must come whole within the body timeout", async () => {
  const fast = new Request("http://x/", { method: "POST", body: "hello" });
  assert.equal(new TextDecoder().decode(await readBodyWithin(fast, state(300))), "hello");

  const s = state(300);
  const { body } = trickle(1, 10, true);
  const slow = new Request("http://x/", { method: "POST", body, duplex: "half" } as RequestInit);
  await assert.rejects(readBodyWithin(slow, s), BodyTimeout);
  assert.equal(s.timedOut, 1);
  assert.equal(watchedCount(), 0);
});
