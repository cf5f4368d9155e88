/**
 * Cost of a request's worst case per request: decoding and parsing the body, walking it,
 * counting its text (OpenAI: o200k in bounded time; Anthropic, Gemini: the byte bound) and
 * sizing its images, for chat bodies of 1 KB, 10 KB and 100 KB of prose-like text (made-up
 * words drawn as often as words are in English, so that the tokenizer's merge cache helps
 * as much as it does on real text, and no more) and a gpt-4o body with a 150 KB photo. The 100 KB body is also measured without a deadline, to show what
 * exact counting costs when nothing cuts it short.
 *
 * @module
 */
import { base64, jpeg } from "./fixtures_test.ts";
import { type BoundContext, boundRequest } from "./input.ts";
import { loadEncoding } from "./tokenize.ts";

await loadEncoding("o200k_base");

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

/** 5,000 made-up words of one to four syllables: a vocabulary the merge cache cannot hold whole. */
const ONSETS = [
  "b",
  "c",
  "d",
  "f",
  "g",
  "h",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "t",
  "v",
  "w",
  "st",
  "tr",
  "ch",
  "sh",
  "pl",
];
const VOWELS = ["a", "e", "i", "o", "u", "ea", "ou", "ai", "io"];
const CODAS = ["", "", "n", "r", "s", "t", "l", "nd", "ng", "st"];
const WORDS = Array.from({ length: 5000 }, () => {
  let word = "";
  const syllables = 1 + Math.floor(random() * 4);
  for (let i = 0; i < syllables; i++) {
    word += ONSETS[Math.floor(random() * ONSETS.length)] +
      VOWELS[Math.floor(random() * VOWELS.length)] +
      CODAS[Math.floor(random() * CODAS.length)];
  }
  return word;
});
/** Cumulative Zipf weights: the word of rank r is drawn with probability ∝ 1 / r, as in prose. */
const ZIPF = WORDS.map((_, r) => 1 / (r + 1));
for (let i = 1; i < ZIPF.length; i++) ZIPF[i] += ZIPF[i - 1];

function word(): string {
  const x = random() * ZIPF[ZIPF.length - 1];
  let lo = 0;
  let hi = ZIPF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ZIPF[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return WORDS[lo];
}

/** About `bytes` of prose-like text: Zipf-distributed words in sentences and paragraphs. */
function prose(bytes: number): string {
  let text = "";
  while (text.length < bytes) {
    const n = 5 + Math.floor(random() * 20);
    const sentence = Array.from({ length: n }, word).join(" ");
    text += sentence[0].toUpperCase() + sentence.slice(1) + (random() < 0.15 ? ".\n\n" : ". ");
  }
  return text.slice(0, bytes);
}

const encoder = new TextEncoder();

function chat(bytes: number): Uint8Array {
  return encoder.encode(JSON.stringify({
    model: "gpt-4o-mini",
    max_tokens: 1024,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: prose(bytes) },
    ],
  }));
}

const OPENAI: BoundContext = { format: "openai", path: "/v1/chat/completions", outputCap: 1024 };
const photo = encoder.encode(JSON.stringify({
  model: "gpt-4o",
  max_tokens: 300,
  messages: [{
    role: "user",
    content: [
      { type: "text", text: "What is in this photo?" },
      {
        type: "image_url",
        image_url: { url: `data:image/jpeg;base64,${base64(jpeg(4032, 3024, 7000))}` },
      },
    ],
  }],
}));

for (const size of [1_000, 10_000, 100_000]) {
  const body = chat(size);
  const label = `${size / 1000} KB`;
  Deno.bench(`openai chat ${label}`, { group: "openai" }, () => {
    boundRequest(body, OPENAI);
  });
  const claude = encoder.encode(JSON.stringify({
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    system: "You are a helpful assistant.",
    messages: [{ role: "user", content: prose(size) }],
  }));
  Deno.bench(`anthropic messages ${label}`, { group: "byte bound" }, () => {
    boundRequest(claude, { format: "anthropic", path: "/v1/messages", outputCap: 1024 });
  });
  const flash = encoder.encode(JSON.stringify({
    contents: [{ role: "user", parts: [{ text: prose(size) }] }],
    generationConfig: { maxOutputTokens: 1024 },
  }));
  Deno.bench(`gemini generateContent ${label}`, { group: "byte bound" }, () => {
    boundRequest(flash, {
      format: "gemini",
      path: "/v1beta/models/gemini-2.5-flash:generateContent",
      outputCap: 1024,
    });
  });
}

const large = chat(100_000);
Deno.bench("openai chat 100 KB, exact without a deadline", { group: "openai" }, () => {
  boundRequest(large, { ...OPENAI, deadlineMs: Infinity });
});

Deno.bench(`openai gpt-4o with a 150 KB photo (${Math.round(photo.length / 1000)} KB body)`, {
  group: "openai",
}, () => {
  boundRequest(photo, { ...OPENAI, outputCap: 300 });
});
