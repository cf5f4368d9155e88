import assert from "node:assert/strict";
import { boundedCount, cuts } from "./bounded_count.ts";
import { utf8Length } from "../bytes.ts";
import { type Counter, type Encoding, loadEncoding } from "./tokenize.ts";

const encodings: [Encoding, Counter][] = [];
for (const encoding of ["o200k_base", "cl100k_base"] as const) {
  encodings.push([encoding, (await loadEncoding(encoding))!]);
}

let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];

/** Text of every kind the pre-tokenizers split differently: words, contractions, digits, CJK. */
function mixed(length: number): string {
  const pieces = [
    "the",
    " The",
    "don't",
    " we’re",
    "I'M",
    "l'été",
    " naïve",
    "e\u0301",
    "1234567",
    " 3.14",
    "---",
    "...",
    "\n\n",
    "  ",
    "\t",
    "日本語の文章",
    "。",
    "한국어",
    "Ελληνικά",
    "русский",
    "👋🏽",
    "<|endoftext|>",
    "$(x)",
    "a_b",
    "ſ",
    "\u00a0",
    "\r\n",
    "'s",
    "’",
    "x",
    "Z",
    "𝐀𝐁𝐂",
    "𠀀𠀁",
    " 𝐱",
  ];
  let text = "";
  while (text.length < length) text += pick(pieces) + (random() < 0.5 ? " " : "");
  return text;
}

/** The project's own documents and code: real English and TypeScript. */
async function corpus(): Promise<string> {
  let text = "";
  for (const dir of ["docs", "src/body", "src/config"]) {
    for await (const entry of Deno.readDir(new URL(`../../${dir}/`, import.meta.url))) {
      if (!entry.isFile) continue;
      text += await Deno.readTextFile(new URL(`../../${dir}/${entry.name}`, import.meta.url));
    }
  }
  return text;
}

Deno.test("boundedCount: the regions' exact counts add up to the whole text's", async () => {
  const real = await corpus();
  const texts: string[] = [];
  for (let i = 0; i + 4000 <= real.length && texts.length < 60; i += 9000) {
    texts.push(real.slice(i, i + 4000));
  }
  for (let i = 0; i < 60; i++) texts.push(mixed(500 + Math.floor(random() * 6000)));
  for (const [encoding, exact] of encodings) {
    let same = 0;
    for (const text of texts) {
      const whole = exact(text);
      // cut at every point where a piece must end: the counts add up exactly
      const points = [0, ...cuts(text), text.length];
      let sum = 0;
      for (let i = 1; i < points.length; i++) sum += exact(text.slice(points[i - 1], points[i]));
      assert.equal(sum, whole, `${encoding}: ${JSON.stringify(text.slice(0, 80))}`);
      // with the regions used in requests: exact unless a stretch has no cut (then above)
      const bounded = boundedCount(text, exact, Infinity);
      assert.ok(bounded >= whole);
      if (bounded === whole) same++;
    }
    assert.ok(same >= texts.length * 0.9, `${encoding}: ${same} of ${texts.length} exact`);
  }
});

Deno.test("boundedCount: never below the exact count, whatever the deadline and region", () => {
  const [, exact] = encodings[0];
  for (let i = 0; i < 40; i++) {
    const text = mixed(200 + Math.floor(random() * 3000)) + "b".repeat(Math.floor(random() * 900));
    const whole = exact(text);
    for (const [deadline, region] of [[Infinity, 64], [0, 512], [Infinity, 512]] as const) {
      assert.ok(boundedCount(text, exact, deadline, region) >= whole);
    }
  }
});

Deno.test("boundedCount: without a tokenizer, or past the deadline, counts UTF-8 bytes", () => {
  const text = "naïve 日本 👋";
  assert.equal(boundedCount(text, undefined, Infinity), utf8Length(text));
  assert.equal(boundedCount(text.repeat(100), encodings[0][1], 0), utf8Length(text) * 100);
});

Deno.test("boundedCount: adversarial 100 KB inputs each count in under 20 ms", () => {
  const letters = Array.from(
    { length: 100_000 },
    () => String.fromCharCode(97 + Math.floor(random() * 26)),
  );
  const cjk = Array.from(
    { length: 33_333 },
    () => String.fromCharCode(0x4e00 + Math.floor(random() * 3000)),
  );
  const words = Array.from({ length: 200 }, () => letters.slice(0, 500).join("")).join(" ");
  const cases: Record<string, string> = {
    "a x 100K": "a".repeat(100_000),
    "random letters": letters.join(""),
    "CJK without punctuation": cjk.join(""),
    "spaces": " ".repeat(100_000),
    "digits": "7".repeat(100_000),
    "500-letter gibberish words": words,
  };
  for (const [encoding, exact] of encodings) {
    exact("warm up");
    for (const [name, text] of Object.entries(cases)) {
      // the least of three runs: the work is bounded, a busy machine's scheduler is not
      let ms = Infinity;
      for (let run = 0; run < 3; run++) {
        const start = performance.now();
        const tokens = boundedCount(text, exact, performance.now() + 5);
        ms = Math.min(ms, performance.now() - start);
        assert.ok(tokens > 0 && tokens <= utf8Length(text), `${encoding} ${name}: ${tokens}`);
      }
      assert.ok(ms < 20, `${encoding} ${name}: ${ms.toFixed(1)} ms`);
    }
  }
});
