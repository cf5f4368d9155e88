/**
 * Cost of the body rules per request: the bytes scanned and edited in place, against what
 * they replaced (decode, `JSON.parse`, rules over the object, `JSON.stringify`, encode), for
 * a typical chat request and for 1 MB prompts in English and in Russian (text that is not
 * ASCII costs a decoder far more). Each run edits a fresh copy, as a request does.
 *
 * @module
 */
import { PRESETS } from "../config/presets/mod.ts";
import { applyBodyRules } from "./apply.ts";
import { compileBodyRules } from "./rules.ts";
import { SPLICE_ROOM } from "./splice.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const rules = compileBodyRules({ models: ["gpt-4o-mini"], max_tokens: 256 }, "openai", false)!;
const PATH = "/v1/chat/completions";

function chat(prompt: string): Uint8Array {
  return encoder.encode(JSON.stringify({
    model: "gpt-4o-mini",
    max_tokens: 4096,
    temperature: 0.2,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: prompt },
    ],
  }));
}

const bodies = {
  "1 KB": chat("Summarise the following text in three sentences. ".repeat(20)),
  "1 MB": chat("lorem ipsum dolor sit amet ".repeat(40_000)),
  "1 MB not ASCII": chat("съешь же ещё этих мягких французских булок ".repeat(13_000)),
};

/** The body as the reader leaves it: a fresh buffer with room before it. */
function fresh(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const buffer = new Uint8Array(SPLICE_ROOM + bytes.byteLength);
  buffer.set(bytes, SPLICE_ROOM);
  return buffer.subarray(SPLICE_ROOM);
}

for (const [size, bytes] of Object.entries(bodies)) {
  Deno.bench(
    `body rules ${size}: scanned, edited in place`,
    { group: size, baseline: true },
    () => {
      applyBodyRules(fresh(bytes), rules, PATH, SPLICE_ROOM);
    },
  );
  Deno.bench(`body rules ${size}: parsed and re-encoded`, { group: size }, () => {
    const raw = fresh(bytes);
    const body = JSON.parse(decoder.decode(raw));
    body.max_tokens = Math.min(body.max_tokens, 256);
    encoder.encode(JSON.stringify(body));
  });
}

// On a preset route the endpoint is looked up first (generating or not, and its cap field):
// the lookup against the openai preset's table, and a whole 1 KB request with it.
const preset = compileBodyRules(
  { models: ["gpt-4o-mini"], max_tokens: 256 },
  "openai",
  false,
  PRESETS.openai.generate,
)!;
Deno.bench("endpoint plan: chat completions (generating)", { group: "plan" }, () => {
  preset.plan("POST", PATH);
});
Deno.bench("endpoint plan: embeddings (not generating)", { group: "plan" }, () => {
  preset.plan("POST", "/v1/embeddings");
});
Deno.bench("body rules 1 KB on the openai preset: planned, scanned, edited", () => {
  applyBodyRules(fresh(bodies["1 KB"]), preset, PATH, SPLICE_ROOM, preset.plan("POST", PATH));
});
