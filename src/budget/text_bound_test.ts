import assert from "node:assert/strict";
import { utf8Length } from "../bytes.ts";
import { nfkcBound } from "./text_bound.ts";

let seed = 13;
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

Deno.test("utf8Length: as TextEncoder writes any string, lone surrogates included", () => {
  const encoder = new TextEncoder();
  for (let i = 0; i < 500; i++) {
    const units = Array.from({ length: Math.floor(random() * 40) }, () => {
      const r = random();
      return r < 0.4
        ? Math.floor(random() * 0x80)
        : r < 0.8
        ? Math.floor(random() * 0x10000)
        : 0xd800 + Math.floor(random() * 0x800);
    });
    const text = String.fromCharCode(...units);
    assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
    const from = Math.floor(random() * text.length);
    assert.equal(utf8Length(text, from), encoder.encode(text.slice(from)).length);
  }
});

Deno.test("nfkcBound: the larger of the bytes before and after NFKC", () => {
  assert.equal(nfkcBound("hello"), 5);
  assert.equal(nfkcBound("ﬁ"), 3); // U+FB01 (3 bytes) becomes "fi" (2)
  assert.equal(nfkcBound("㎒"), 3); // U+3392 becomes "MHz"
  assert.equal(nfkcBound("\uFDFA".repeat(200)), 200 * 33); // 5 tokens a byte in Anthropic's own tokenizer
  // recomposition blocked by a reordered mark: NFKC is longer than each code point's own
  assert.ok(nfkcBound("\u00e9\u0323") >= utf8Length("\u00e9\u0323".normalize("NFKC")));
  assert.equal(utf8Length("\u00e9\u0323".normalize("NFKC")), 5);
  for (let i = 0; i < 2000; i++) {
    const text = String.fromCodePoint(
      ...Array.from({ length: 20 }, () => Math.floor(random() * 0x2ffff)),
    );
    const bound = nfkcBound(text);
    assert.ok(bound >= utf8Length(text) && bound >= utf8Length(text.normalize("NFKC")));
  }
});

Deno.test("nfkcBound: 100 KB that NFKC expands elevenfold is bounded in a few milliseconds", () => {
  for (
    const text of ["\uFDFA".repeat(33_333), "\u3392".repeat(33_333), "\u00e9\u0323".repeat(25_000)]
  ) {
    nfkcBound(text.slice(0, 100));
    let ms = Infinity;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const bound = nfkcBound(text);
      ms = Math.min(ms, performance.now() - start);
      assert.ok(bound >= utf8Length(text.normalize("NFKC")));
    }
    assert.ok(ms < 20, `${ms.toFixed(1)} ms`);
  }
});
