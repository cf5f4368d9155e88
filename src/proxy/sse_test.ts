import assert from "node:assert/strict";
import { errorEvent, EventFramer, eventsEnd, MAX_HELD_BYTES } from "./sse.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function frame(text: string, cuts: number[]): string[] {
  const framer = new EventFramer();
  const bytes = encoder.encode(text);
  const out: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const ready = framer.push(bytes.subarray(from, cut));
    if (ready) out.push(decoder.decode(ready));
    from = cut;
  }
  return out;
}

Deno.test("eventsEnd finds the last blank line in every line-ending style", () => {
  assert.equal(eventsEnd(encoder.encode("data: 1\n\ndata: 2")), 9);
  assert.equal(eventsEnd(encoder.encode("data: 1\r\n\r\ndata: 2\r\n")), 11);
  assert.equal(eventsEnd(encoder.encode("data: 1\r\rdata: 2")), 9);
  assert.equal(eventsEnd(encoder.encode("data: 1\n")), 0);
  assert.equal(eventsEnd(encoder.encode("data: 1\r\n\r")), 0, "the \\n may follow");
});

Deno.test("whole events go on at once; a partial one waits for its blank line", () => {
  const text = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
  assert.deepEqual(frame(text, []), [text]);
  assert.deepEqual(frame(text, [12]), ["data: 1\n\n", "data: 2\n\ndata: 3\n\n"]);
  // the blank line itself split between chunks, in both styles
  assert.deepEqual(frame("data: 1\n\ndata: 2\n\n", [17]), ["data: 1\n\n", "data: 2\n\n"]);
  const crlf = "data: 1\r\n\r\ndata: 2\r\n\r\n";
  for (let cut = 1; cut < crlf.length; cut++) {
    assert.equal(frame(crlf, [cut]).join(""), crlf, `cut ${cut}`);
  }
  assert.deepEqual(frame(crlf, [20]), ["data: 1\r\n\r\n", "data: 2\r\n\r\n"]);
});

Deno.test("what is held is reported and given back; a huge event is not held past the bound", () => {
  const framer = new EventFramer();
  assert.equal(framer.push(encoder.encode('data: {"cho')), undefined);
  assert.equal(framer.partial, true);
  assert.equal(decoder.decode(framer.end()), 'data: {"cho');
  assert.equal(framer.partial, false);
  const big = encoder.encode("data: " + "x".repeat(MAX_HELD_BYTES));
  assert.equal(framer.push(big)?.length, big.length);
});

Deno.test("the error event carries keyward's JSON error", () => {
  const text = decoder.decode(errorEvent("bad_gateway", "The upstream broke off the stream"));
  assert.equal(
    text,
    'event: error\ndata: {"error":{"type":"bad_gateway","message":"The upstream broke off the stream"}}\n\n',
  );
});
