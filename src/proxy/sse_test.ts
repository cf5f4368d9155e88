import assert from "node:assert/strict";
import {
  cutEvent,
  type CutReason,
  type ErrorShape,
  EventFramer,
  eventsEnd,
  MAX_HELD_BYTES,
} from "./sse.ts";

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

Deno.test("the last event of a cut stream takes each provider's own error shape", () => {
  const event = (shape: ErrorShape, reason: CutReason) => {
    const text = decoder.decode(cutEvent(shape, reason));
    assert.ok(text.endsWith("\n\n"), text);
    const lines = text.slice(0, -2).split("\n");
    const data = lines.find((line) => line.startsWith("data: "))!;
    return { lines, data: JSON.parse(data.slice("data: ".length)) };
  };
  const broke = "The upstream broke off the stream";
  assert.deepEqual(event("keyward", "broken"), {
    lines: ["event: error", `data: {"error":{"type":"bad_gateway","message":"${broke}"}}`],
    data: { error: { type: "bad_gateway", message: broke } },
  });
  assert.deepEqual(event("openai", "broken").data, {
    error: { message: broke, type: "server_error", code: "upstream_broken" },
  });
  assert.equal(event("openai", "silent").lines[0], "event: error");
  assert.deepEqual(event("anthropic", "silent").data.error.type, "timeout_error");
  assert.equal(event("anthropic", "broken").data.type, "error");
  // Gemini sends its error object as a plain data line, which is what @google/genai reads.
  const gemini = event("gemini", "broken");
  assert.equal(gemini.lines.length, 1);
  assert.deepEqual(gemini.data, { error: { code: 503, message: broke, status: "UNAVAILABLE" } });
  assert.equal(event("gemini", "silent").data.error.status, "DEADLINE_EXCEEDED");
});
