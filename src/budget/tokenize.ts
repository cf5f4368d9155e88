/**
 * OpenAI's tokenizers (`o200k_base`, `cl100k_base`, from gpt-tokenizer), loaded only when a
 * route needs them. An encoding costs about half a second and 56 MB to load, so it is
 * imported dynamically: a route with a budget on an OpenAI upstream starts the import when it
 * is compiled ({@linkcode prepareTokenizer}), and a request waits for it only if it arrives
 * before the import is done. A process without such routes never loads it. If the import
 * fails (a runtime that cannot load the package), counts fall back to bytes, which bound the
 * tokens of any byte-level BPE.
 *
 * @module
 */
import type { UsageFormat } from "../config/presets/preset.ts";

/** The OpenAI encodings keyward counts with. */
export type Encoding = "o200k_base" | "cl100k_base";

/** A whole-string token counter. */
export type Counter = (text: string) => number;

/** Models by prefix (after a fine-tune's `ft:`); `O200K` is tried first. */
const CL100K = /^(?:gpt-4(?:-|$)|gpt-3\.5|text-embedding-(?:3|ada-002)|davinci-002|babbage-002)/;
const O200K =
  /^(?:gpt-4o|gpt-4\.[15]|gpt-5|gpt-oss|o\d(?:-|$)|chatgpt-|codex-|computer-use|gpt-image|gpt-audio|gpt-realtime|omni-moderation)/;

/**
 * The encoding an OpenAI model counts with: `o200k_base` for gpt-4o, 4.1, 4.5, 5 and the
 * o-series, `cl100k_base` for gpt-4, gpt-3.5 and the embedding models; undefined for a model
 * it does not know (its text is then bounded by bytes). A fine-tune counts as its base.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodingFor } from "./tokenize.ts";
 *
 * assert.equal(encodingFor("gpt-4o-mini"), "o200k_base");
 * assert.equal(encodingFor("ft:gpt-4o-mini-2024-07-18:acme::abc123"), "o200k_base");
 * assert.equal(encodingFor("gpt-4-turbo"), "cl100k_base");
 * assert.equal(encodingFor("text-embedding-3-small"), "cl100k_base");
 * assert.equal(encodingFor("my-model"), undefined);
 * ```
 */
export function encodingFor(model: string | undefined): Encoding | undefined {
  if (model === undefined) return undefined;
  const base = model.startsWith("ft:") ? model.slice(3) : model;
  if (O200K.test(base)) return "o200k_base";
  if (CL100K.test(base)) return "cl100k_base";
  return undefined;
}

/** Special-token text (`<|endoftext|>`) counts as ordinary text, as the APIs encode it. */
const PLAIN = { disallowedSpecial: new Set<string>() };

const counters = new Map<Encoding, Counter | null>();
const loading = new Map<Encoding, Promise<Counter | null>>();

function load(encoding: Encoding): Promise<Counter | null> {
  let pending = loading.get(encoding);
  if (pending) return pending;
  // Literal specifiers, so that bundlers and `deno compile` carry the modules.
  const module = encoding === "o200k_base"
    ? import("gpt-tokenizer/encoding/o200k_base")
    : import("gpt-tokenizer/encoding/cl100k_base");
  pending = module.then(
    ({ countTokens }): Counter => (text) => countTokens(text, PLAIN),
    () => null, // cannot load here: bytes bound the count instead
  ).then((counter) => {
    counters.set(encoding, counter);
    return counter;
  });
  loading.set(encoding, pending);
  return pending;
}

/**
 * The loaded counter of `encoding`: the counter, `null` when it cannot be loaded (count
 * bytes), or undefined while it is not loaded yet (see {@linkcode loadEncoding}).
 *
 * @example
 * ```ts
 * import { counterFor, loadEncoding } from "./tokenize.ts";
 *
 * await loadEncoding("o200k_base");
 * const count = counterFor("o200k_base");
 * if (!count || count("hello world") !== 2) throw new Error("not loaded");
 * ```
 */
export function counterFor(encoding: Encoding): Counter | null | undefined {
  return counters.get(encoding);
}

/**
 * Loads `encoding` (once); resolves to its counter, or `null` when it cannot be loaded.
 *
 * @example
 * ```ts
 * import { loadEncoding } from "./tokenize.ts";
 *
 * const count = await loadEncoding("cl100k_base");
 * if (count?.("<|endoftext|>") !== 7) throw new Error("special text must count as text");
 * ```
 */
export function loadEncoding(encoding: Encoding): Promise<Counter | null> {
  return load(encoding);
}

/**
 * Starts loading what counting a route's requests will need, without waiting: for an OpenAI
 * upstream, the encodings of `models` (the route's `body.models`), or `o200k_base` when it
 * names none (other encodings then load on the first request that needs them). Anthropic and
 * Gemini count by bytes and load nothing. Call it when compiling a route that has a token or
 * spend budget; the returned promise settles when loading is done (it never rejects).
 *
 * @example
 * ```ts
 * import { prepareTokenizer } from "./tokenize.ts";
 *
 * await prepareTokenizer("anthropic"); // nothing to load
 * void prepareTokenizer("openai", ["gpt-4o-mini"]); // starts the import; requests await it
 * ```
 */
export function prepareTokenizer(
  format: UsageFormat,
  models?: readonly string[],
): Promise<void> {
  if (format !== "openai") return Promise.resolve();
  const wanted = new Set<Encoding>();
  for (const model of models ?? []) {
    const encoding = encodingFor(model);
    if (encoding) wanted.add(encoding);
  }
  if (!models?.length) wanted.add("o200k_base");
  return Promise.all([...wanted].map(load)).then(() => {});
}
