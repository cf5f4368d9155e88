import assert from "node:assert/strict";
import { dataUrl, decodeAt, payloadBytes } from "./base64.ts";

Deno.test("decodeAt: any byte range of a payload, in both alphabets", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
  const standard = btoa(String.fromCharCode(...bytes));
  const url = standard.replaceAll("+", "-").replaceAll("/", "_");
  for (const text of [standard, url]) {
    for (let from = 0; from < 300; from += 7) {
      for (const n of [1, 2, 3, 9, 40]) {
        assert.deepEqual(
          decodeAt("xx" + text, 2, from, n),
          bytes.subarray(from, Math.min(300, from + n)),
        );
      }
    }
  }
  assert.deepEqual(decodeAt(btoa("ab"), 0, 0, 10), new TextEncoder().encode("ab")); // the padding ends it
});

Deno.test("payloadBytes and dataUrl", () => {
  assert.equal(payloadBytes(btoa("abcd"), 0), 4);
  assert.equal(payloadBytes("data:," + btoa("abcde"), 6), 5);
  assert.deepEqual(dataUrl("data:image/jpeg;name=a.jpg;base64,/9j/"), {
    type: "image/jpeg",
    at: 34,
  });
  assert.equal(dataUrl("data:text/plain,hello"), undefined); // not base64
});
