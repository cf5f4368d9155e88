import assert from "node:assert/strict";
import { Secret } from "../keys/secret.ts";
import { needlesOf, redactBytes, redactText, StreamRedactor } from "./redact.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KEY = "sk-live-0123456789";

/** Runs `text` through a redactor in the given pieces and returns what came out. */
function stream(text: string, cuts: number[], key = KEY): string {
  const redactor = new StreamRedactor(needlesOf(new Secret(key)));
  const bytes = encoder.encode(text);
  let out = "";
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += decoder.decode(redactor.push(bytes.subarray(from, cut)), { stream: true });
    from = cut;
  }
  const rest = redactor.end();
  if (rest) out += decoder.decode(rest);
  return out;
}

Deno.test("a key split over two chunks at every position is redacted", () => {
  const text = `{"url":"https://x.example/cb?api_key=${KEY}&b=1"}`;
  const want = text.replace(KEY, "[redacted]");
  for (let cut = 0; cut <= text.length; cut++) {
    assert.equal(stream(text, [cut]), want, `cut ${cut}`);
  }
});

Deno.test("a key spread over one-byte chunks, repeated, and at both ends is redacted", () => {
  const text = `${KEY} and ${KEY}${KEY} then sk-live-012 (not a key) ${KEY}`;
  const cuts = Array.from({ length: text.length }, (_, i) => i);
  assert.equal(
    stream(text, cuts),
    "[redacted] and [redacted][redacted] then sk-live-012 (not a key) [redacted]",
  );
});

Deno.test("only a tail that could start the key is held back", () => {
  const redactor = new StreamRedactor(needlesOf(new Secret(KEY)));
  assert.equal(decoder.decode(redactor.push(encoder.encode("data: 1\n\n"))), "data: 1\n\n");
  assert.equal(decoder.decode(redactor.push(encoder.encode("x sk-li"))), "x ");
  assert.equal(decoder.decode(redactor.push(encoder.encode("ke"))), "sk-like");
  assert.equal(redactor.end(), undefined);
});

Deno.test("percent-encoded and JSON-escaped spellings of a key are redacted too", () => {
  const key = "k/ey+1=";
  const needles = needlesOf(new Secret(key));
  assert.deepEqual(needles.text, ["k/ey+1=", "k%2Fey%2B1%3D", "k\\/ey+1="]);
  assert.equal(redactText("a=k%2Fey%2B1%3D; b=k/ey+1=", needles), "a=[redacted]; b=[redacted]");
  const json = encoder.encode('{"key":"k\\/ey+1="}');
  assert.equal(decoder.decode(redactBytes(json, needles)), '{"key":"[redacted]"}');
  assert.equal(needlesOf(new Secret(KEY)).text.length, 1, "a plain key has one spelling");
});

Deno.test("bytes without the key come back as the same array", () => {
  const bytes = encoder.encode("nothing to see");
  assert.equal(redactBytes(bytes, needlesOf(new Secret(KEY))), bytes);
});
