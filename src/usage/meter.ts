/**
 * Token usage as upstreams report it: in JSON bodies and in the SSE events of OpenAI
 * (chat completions and responses), Anthropic and Gemini streams. The meter reads a copy of
 * the bytes as they pass; it never holds a chunk back.
 *
 * When an answer ends without the usage it would have reported (OpenAI reports it only in a
 * stream's last event, so a client that hangs up early would pay nothing), the meter gives a
 * conservative estimate instead (see {@linkcode UsageMeter.charge}).
 *
 * @module
 */
import type { UsageFormat } from "../config/presets/mod.ts";

import { USAGE_KINDS, type UsageKind } from "../config/usage_kinds.ts";

export { USAGE_KINDS, type UsageKind } from "../config/usage_kinds.ts";

/** The kinds on the input side (they add up to {@linkcode Usage.input}). */
export const INPUT_KINDS: readonly UsageKind[] = USAGE_KINDS.slice(
  0,
  USAGE_KINDS.indexOf("output"),
);

/** The kinds on the output side (they add up to {@linkcode Usage.output}). */
export const OUTPUT_KINDS: readonly UsageKind[] = USAGE_KINDS.slice(USAGE_KINDS.indexOf("output"));

/**
 * Usage split into disjoint kinds for pricing; a kind the upstream did not report is absent
 * (none of its tokens). `input` and `output` hold what no other kind does.
 */
export type UsageKinds =
  & { input: number; output: number }
  & { [K in Exclude<UsageKind, "input" | "output">]?: number };

/** Tokens an upstream reported for one request. */
export interface Usage {
  /** Input tokens, all of them billed: prompt, cached reads and writes, tool results, media. */
  input: number;
  /** Output tokens, all of them billed: generated text, reasoning, audio, images. */
  output: number;
  /** Their sum, or the upstream's own total when it reports one. */
  total: number;
  /**
   * The same tokens split by kind, for pricing: present when the meter was asked for kinds
   * ({@linkcode UsageMeterOptions.kinds}) and the upstream reported usage. An estimate
   * ({@linkcode Charge.estimated}) has none: it is priced at the input and output prices.
   */
  kinds?: UsageKinds;
}

type Json = Record<string, unknown>;

/** Usage to charge, and whether it is the meter's estimate rather than the upstream's word. */
export interface Charge {
  /** The tokens to charge. */
  usage: Usage;
  /** True when the upstream did not report (all of) it and the meter estimated it. */
  estimated: boolean;
}

/**
 * The JSON string fields that carry generated text, by format: their raw lengths bound the
 * output tokens of a cut answer. Compact JSON (`"a":"b"`) or Python's default (`"a": "b"`).
 */
const CONTENT_FIELDS: Record<UsageFormat, RegExp> = {
  // chat deltas and messages, tool call arguments, refusals; Responses `*.delta` events
  openai: /"(?:content|delta|arguments|refusal)": ?"/g,
  // text, tool input and thinking deltas
  anthropic: /"(?:text|partial_json|thinking)": ?"/g,
  gemini: /"text": ?"/g,
};

/**
 * UTF-8 bytes of the raw JSON string starting at `from` (just past its opening quote), up to
 * its closing quote or the end of `text`. Escapes count as written (`\n` as 2, `\u00e9` as
 * 6), never less than the bytes they stand for.
 */
function rawStringBytes(text: string, from: number): number {
  let bytes = 0;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) break; // closing quote
    if (code === 0x5c) {
      // an escape: the backslash and the character after it
      bytes += 2;
      i++;
    } else if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdfff) bytes += 2; // half of a 4-byte character
    else bytes += 3;
  }
  return bytes;
}

/** Sums the bytes of generated text in `text` (JSON, or one SSE data line). */
function contentBytes(pattern: RegExp, text: string): number {
  let bytes = 0;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    bytes += rawStringBytes(text, pattern.lastIndex);
  }
  return bytes;
}

const num = (value: unknown): number => (typeof value === "number" && value >= 0 ? value : 0);

/**
 * Reads usage out of one JSON object (a whole body or one SSE event), or undefined; with
 * `kinds`, split by kind too (see {@linkcode Usage.kinds}).
 *
 * What each format reports, and how it is split:
 * - OpenAI Chat Completions (`usage.prompt_tokens`, `completion_tokens`) and Responses and
 *   Images (`input_tokens`, `output_tokens`): the prompt includes the cached tokens, cache
 *   writes, audio and images of its `*_tokens_details`; the completion includes reasoning
 *   and audio.
 * - Anthropic: `input_tokens`, `cache_creation_input_tokens` (split into 5 minute and 1 hour
 *   writes by `cache_creation`; without the split, all are priced as 5 minute writes) and
 *   `cache_read_input_tokens` are disjoint, and all billed as input; `output_tokens` includes
 *   thinking. A stream reports the input in `message_start` and the output, as a running
 *   total, in each `message_delta`.
 * - Gemini (`usageMetadata`): `promptTokenCount` includes the cached content
 *   (`cachedContentTokenCount`); tool results (`toolUsePromptTokenCount`) are billed as input
 *   on top; thoughts (`thoughtsTokenCount`) as output on top of `candidatesTokenCount`. The
 *   `*TokensDetails` lists split them by modality (a `DOCUMENT` counts as an image).
 * - Gemini Interactions (`usage.total_*`): the same, by other names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageOf } from "./meter.ts";
 *
 * const body = {
 *   usageMetadata: {
 *     promptTokenCount: 100,
 *     cachedContentTokenCount: 60,
 *     toolUsePromptTokenCount: 5,
 *     candidatesTokenCount: 20,
 *     thoughtsTokenCount: 30,
 *     totalTokenCount: 155,
 *   },
 * };
 * assert.deepEqual(usageOf("gemini", body, true), {
 *   input: 105,
 *   output: 50,
 *   total: 155,
 *   kinds: { input: 45, cached_input: 60, output: 20, reasoning: 30 },
 * });
 * ```
 */
export function usageOf(
  format: UsageFormat,
  value: unknown,
  kinds = false,
): Partial<Usage> | undefined {
  if (Array.isArray(value)) {
    // Gemini's non-SSE stream is one JSON array; the last element holds the totals.
    for (let i = value.length - 1; i >= 0; i--) {
      const usage = usageOf(format, value[i], kinds);
      if (usage) return usage;
    }
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const object = value as Json;
  if (format === "gemini") {
    const meta = object.usageMetadata as Json | undefined;
    return meta ? geminiUsage(meta, GENERATE_FIELDS, kinds) : interactionUsage(object, kinds);
  }
  const usage = (object.usage ??
    (object.message as Json | undefined)?.usage ??
    (object.response as Json | undefined)?.usage) as Json | undefined;
  if (!usage || typeof usage !== "object") return undefined;
  if (format === "anthropic") {
    const input = num(usage.input_tokens) + num(usage.cache_creation_input_tokens) +
      num(usage.cache_read_input_tokens);
    const result: Partial<Usage> = {};
    if ("input_tokens" in usage) result.input = input;
    if ("output_tokens" in usage) result.output = num(usage.output_tokens);
    if (kinds) result.kinds = anthropicKinds(usage);
    return result;
  }
  const input = num(usage.prompt_tokens ?? usage.input_tokens);
  const output = num(usage.completion_tokens ?? usage.output_tokens);
  const result: Partial<Usage> = {
    input,
    output,
    total: num(usage.total_tokens) || input + output,
  };
  if (kinds) result.kinds = openaiKinds(usage, input, output);
  return result;
}

/** Where one of Gemini's two usage shapes keeps each count. */
interface GeminiFields {
  input: string;
  toolInput: string;
  cached: string;
  output: string;
  thoughts: string;
  total: string;
  inputList: string;
  toolInputList: string;
  cacheList: string;
  outputList: string;
}

/** `generateContent`'s `usageMetadata`. */
const GENERATE_FIELDS: GeminiFields = {
  input: "promptTokenCount",
  toolInput: "toolUsePromptTokenCount",
  cached: "cachedContentTokenCount",
  output: "candidatesTokenCount",
  thoughts: "thoughtsTokenCount",
  total: "totalTokenCount",
  inputList: "promptTokensDetails",
  toolInputList: "toolUsePromptTokensDetails",
  cacheList: "cacheTokensDetails",
  outputList: "candidatesTokensDetails",
};

/** The Interactions API's `usage`. */
const INTERACTION_FIELDS: GeminiFields = {
  input: "total_input_tokens",
  toolInput: "total_tool_use_tokens",
  cached: "total_cached_tokens",
  output: "total_output_tokens",
  thoughts: "total_thought_tokens",
  total: "total_tokens",
  inputList: "input_tokens_by_modality",
  toolInputList: "tool_use_tokens_by_modality",
  cacheList: "cached_tokens_by_modality",
  outputList: "output_tokens_by_modality",
};

/** Gemini bills tool results as input and thought tokens as output. */
function geminiUsage(usage: Json, fields: GeminiFields, kinds: boolean): Partial<Usage> {
  const input = num(usage[fields.input]) + num(usage[fields.toolInput]);
  const output = num(usage[fields.output]) + num(usage[fields.thoughts]);
  const result: Partial<Usage> = {
    input,
    output,
    total: num(usage[fields.total]) || input + output,
  };
  if (kinds) {
    result.kinds = geminiKinds(
      input,
      num(usage[fields.cached]),
      num(usage[fields.output]),
      num(usage[fields.thoughts]),
      [usage[fields.inputList], usage[fields.toolInputList]],
      usage[fields.cacheList],
      usage[fields.outputList],
    );
  }
  return result;
}

/**
 * Gemini Interactions report `usage.total_*`, in the body and in stream events (the last in
 * `interaction.completed`'s `interaction`).
 */
function interactionUsage(object: Json, kinds: boolean): Partial<Usage> | undefined {
  const usage = (object.usage ?? (object.interaction as Json | undefined)?.usage) as
    | Json
    | undefined;
  if (!usage || typeof usage !== "object" || !("total_input_tokens" in usage)) return undefined;
  return geminiUsage(usage, INTERACTION_FIELDS, kinds);
}

/** Sets `kinds[kind]` to `tokens` when there are any. */
function put(kinds: UsageKinds, kind: UsageKind, tokens: number) {
  if (tokens > 0) kinds[kind] = tokens;
}

/** The OpenAI kinds: the details lists carve parts out of the prompt and the completion. */
function openaiKinds(usage: Json, input: number, output: number): UsageKinds {
  const details = (usage.prompt_tokens_details ?? usage.input_tokens_details ?? {}) as Json;
  const outDetails = (usage.completion_tokens_details ?? usage.output_tokens_details ?? {}) as Json;
  const cached = num(details.cached_tokens);
  const written = num(details.cache_write_tokens);
  let audio = num(details.audio_tokens);
  let image = num(details.image_tokens);
  let cachedAudio = 0;
  let cachedImage = 0;
  const cachedDetails = details.cached_tokens_details as Json | undefined;
  if (cachedDetails && typeof cachedDetails === "object") {
    // Realtime counts audio and images cached or not, and says which of the cached were which.
    cachedAudio = Math.min(audio, num(cachedDetails.audio_tokens));
    cachedImage = Math.min(image, num(cachedDetails.image_tokens));
  } else if (audio + image + cached + written > input) {
    // Media counted cached or not, without saying which: the dearest split that adds up to the
    // input (media uncached first), never more than the input.
    const fresh = Math.max(0, input - cached - written);
    const audioFresh = Math.min(audio, fresh);
    const imageFresh = Math.min(image, fresh - audioFresh);
    cachedAudio = Math.min(audio - audioFresh, cached);
    cachedImage = Math.min(image - imageFresh, cached - cachedAudio);
  }
  audio -= cachedAudio;
  image -= cachedImage;
  const reasoning = num(outDetails.reasoning_tokens);
  const audioOut = num(outDetails.audio_tokens);
  const imageOut = num(outDetails.image_tokens);
  const kinds: UsageKinds = {
    input: Math.max(0, input - cached - written - audio - image),
    output: Math.max(0, output - reasoning - audioOut - imageOut),
  };
  put(kinds, "cached_input", Math.max(0, cached - cachedAudio - cachedImage));
  put(kinds, "cache_write", written);
  put(kinds, "audio_input", audio);
  put(kinds, "cached_audio_input", cachedAudio);
  put(kinds, "image_input", image);
  put(kinds, "cached_image_input", cachedImage);
  put(kinds, "reasoning", reasoning);
  put(kinds, "audio_output", audioOut);
  put(kinds, "image_output", imageOut);
  return kinds;
}

/**
 * The Anthropic kinds of one event. Its input fields are disjoint already; an event without
 * them (a `message_delta` of an older API version) reports output alone.
 */
function anthropicKinds(usage: Json): UsageKinds {
  const kinds: UsageKinds = { input: num(usage.input_tokens), output: num(usage.output_tokens) };
  put(kinds, "cached_input", num(usage.cache_read_input_tokens));
  const written = num(usage.cache_creation_input_tokens);
  const split = usage.cache_creation as Json | undefined;
  const hour = split && typeof split === "object" ? num(split.ephemeral_1h_input_tokens) : 0;
  put(kinds, "cache_write", Math.max(0, written - hour));
  put(kinds, "cache_write_1h", hour);
  return kinds;
}

/** Tokens of a modality in a Gemini details list (`tokenCount`, or `tokens` in Interactions). */
function modality(list: unknown, name: string): number {
  if (!Array.isArray(list)) return 0;
  let tokens = 0;
  for (const entry of list) {
    if (typeof entry !== "object" || entry === null) continue;
    const { modality, tokenCount, tokens: count } = entry as Json;
    if (typeof modality === "string" && modality.toUpperCase() === name) {
      tokens += num(tokenCount ?? count);
    }
  }
  return tokens;
}

/** Tokens of a modality over several details lists; a document counts as an image. */
function media(lists: unknown[], name: "AUDIO" | "IMAGE" | "VIDEO"): number {
  let tokens = 0;
  for (const list of lists) {
    tokens += modality(list, name);
    if (name === "IMAGE") tokens += modality(list, "DOCUMENT");
  }
  return tokens;
}

/**
 * The Gemini kinds: `input` (prompt and tool results) includes `cached`; the modality lists
 * carve audio, images and video out of the input, the cache and the candidates.
 */
function geminiKinds(
  input: number,
  cached: number,
  candidates: number,
  thoughts: number,
  inputLists: unknown[],
  cacheList: unknown,
  outputList: unknown,
): UsageKinds {
  const cachedAudio = media([cacheList], "AUDIO");
  const cachedImage = media([cacheList], "IMAGE");
  const cachedVideo = media([cacheList], "VIDEO");
  const audio = Math.max(0, media(inputLists, "AUDIO") - cachedAudio);
  const image = Math.max(0, media(inputLists, "IMAGE") - cachedImage);
  const video = Math.max(0, media(inputLists, "VIDEO") - cachedVideo);
  const cachedText = Math.max(0, cached - cachedAudio - cachedImage - cachedVideo);
  const audioOut = media([outputList], "AUDIO");
  const imageOut = media([outputList], "IMAGE");
  const videoOut = media([outputList], "VIDEO");
  const kinds: UsageKinds = {
    input: Math.max(0, input - cached - audio - image - video),
    output: Math.max(0, candidates - audioOut - imageOut - videoOut),
  };
  put(kinds, "cached_input", cachedText);
  put(kinds, "audio_input", audio);
  put(kinds, "cached_audio_input", cachedAudio);
  put(kinds, "image_input", image);
  put(kinds, "cached_image_input", cachedImage);
  put(kinds, "video_input", video);
  put(kinds, "cached_video_input", cachedVideo);
  put(kinds, "reasoning", thoughts);
  put(kinds, "audio_output", audioOut);
  put(kinds, "image_output", imageOut);
  put(kinds, "video_output", videoOut);
  return kinds;
}

/** Options of a {@linkcode UsageMeter}. */
export interface UsageMeterOptions {
  /**
   * Also split the usage by kind ({@linkcode Usage.kinds}), for pricing. Off, the meter does
   * no more work than for token counts.
   */
  kinds?: boolean;
}

/**
 * Collects usage from a response body as it streams past.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageMeter } from "./meter.ts";
 *
 * const meter = new UsageMeter("openai", "text/event-stream");
 * meter.feed(new TextEncoder().encode('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'));
 * meter.feed(new TextEncoder().encode('data: {"usage":{"prompt_tokens":5,"completion_tokens":2'));
 * meter.feed(new TextEncoder().encode(',"total_tokens":7}}\n\ndata: [DONE]\n\n'));
 * assert.deepEqual(meter.finish(), { input: 5, output: 2, total: 7 });
 *
 * // split by kind, for pricing
 * const priced = new UsageMeter("anthropic", "application/json", { kinds: true });
 * priced.feed(new TextEncoder().encode(JSON.stringify({
 *   usage: { input_tokens: 50, cache_read_input_tokens: 10000, output_tokens: 503 },
 * })));
 * assert.deepEqual(priced.finish(), {
 *   input: 10050,
 *   output: 503,
 *   total: 10553,
 *   kinds: { input: 50, cached_input: 10000, output: 503 },
 * });
 * ```
 */
export class UsageMeter {
  readonly #format: UsageFormat;
  readonly #sse: boolean;
  readonly #decoder = new TextDecoder();
  #pending = "";
  #input = 0;
  #output = 0;
  #total = 0;
  #seen = false;
  #inputSeen = false;
  /**
   * Whether the usage seen covers the whole answer: OpenAI reports it once, at the end;
   * Gemini's running totals count what was sent; Anthropic's count is final in the
   * top-level `usage` of `message_delta` (the one in `message_start` is the input and a
   * token or so of output).
   */
  #final = false;
  #overflow = false;
  /** Whether to split usage by kind, and the kinds seen (see `#addKinds`). */
  readonly #wantKinds: boolean;
  #kinds?: UsageKinds;
  /** The event with the most tokens so far (not Anthropic), to split by kind at the end. */
  #kindsOf?: unknown;
  #kindsTokens = 0;
  readonly #content: RegExp;
  /** Bytes of generated text seen (for an estimate when usage never comes). */
  #contentBytes = 0;
  /** Bytes fed in all. */
  #fed = 0;

  /** Bodies larger than this are not parsed as whole JSON (SSE is parsed line by line). */
  static readonly MAX_JSON_BYTES = 8 * 1024 * 1024;

  /**
   * A meter for an answer in `format` with this content type (`text/event-stream` is read
   * event by event, anything else as one JSON body).
   */
  constructor(format: UsageFormat, contentType: string | null, options?: UsageMeterOptions) {
    this.#format = format;
    this.#wantKinds = options?.kinds ?? false;
    this.#sse = contentType?.includes("text/event-stream") ?? false;
    this.#content = CONTENT_FIELDS[format];
  }

  /** Reads one chunk of the body. */
  feed(chunk: Uint8Array): void {
    this.#fed += chunk.byteLength;
    if (this.#overflow) return;
    const text = this.#decoder.decode(chunk, { stream: true });
    if (!this.#sse) {
      this.#pending += text;
      if (this.#pending.length > UsageMeter.MAX_JSON_BYTES) {
        this.#overflow = true;
        this.#pending = "";
      }
      return;
    }
    const data = this.#pending + text;
    const end = data.lastIndexOf("\n");
    if (end === -1) {
      this.#pending = data.length > 1024 * 1024 ? "" : data;
      return;
    }
    // One pass over all the whole lines for generated text, and lines are looked at one by
    // one only when usage is among them.
    const lines = data.slice(0, end);
    this.#contentBytes += contentBytes(this.#content, lines);
    if (lines.includes('"usage')) {
      let from = 0;
      while (from <= end) {
        const newline = data.indexOf("\n", from);
        this.#line(data.slice(from, newline));
        from = newline + 1;
      }
    }
    const rest = data.slice(end + 1);
    this.#pending = rest.length > 1024 * 1024 ? "" : rest;
  }

  /** The usage the body reported, or undefined when it reported none. */
  finish(): Usage | undefined {
    if (this.#sse) {
      if (this.#pending) {
        this.#contentBytes += contentBytes(this.#content, this.#pending);
        this.#line(this.#pending);
      }
    } else if (!this.#overflow && this.#pending) {
      try {
        this.#add(JSON.parse(this.#pending));
      } catch {
        // not JSON: no usage to report
      }
    }
    this.#pending = "";
    if (!this.#seen) return undefined;
    const usage: Usage = {
      input: this.#input,
      output: this.#output,
      total: this.#total || this.#input + this.#output,
    };
    if (this.#kindsOf !== undefined) {
      this.#kinds = usageOf(this.#format, this.#kindsOf, true)?.kinds;
    }
    if (this.#kinds) usage.kinds = { ...this.#kinds };
    return usage;
  }

  /**
   * The usage to charge for the answer once it has ended, given the request body's size
   * (`inputBytes`, or undefined when the answer is not billable: an error) and whether the
   * body was `complete`.
   *
   * Reported usage is charged as reported when it covers the whole answer (see `#final`),
   * even if the client hung up after it came. An answer cut before that (the client hung up,
   * the upstream broke off or went silent), or a stream that ended without usage, is charged
   * a conservative estimate: tokens never outnumber the UTF-8 bytes
   * of the text they encode (every BPE token stands for at least one byte), so
   * - input: the input the upstream reported, else the request body's bytes (JSON quoting
   *   and field names only add to the prompt's own bytes);
   * - output: the larger of the output reported so far and the bytes of generated text that
   *   passed (the raw JSON strings of content, delta and argument fields, escapes as written).
   * Tokens the client never sees (reasoning) and images named by URL are not bounded this
   * way; the reservation of the budget is what covers those.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { UsageMeter } from "./meter.ts";
   *
   * // a stream cut before its usage came: charged an estimate from the bytes that passed
   * const meter = new UsageMeter("openai", "text/event-stream");
   * meter.feed(new TextEncoder().encode('data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n'));
   * assert.deepEqual(meter.charge(120, false), {
   *   usage: { input: 120, output: 5, total: 125 },
   *   estimated: true,
   * });
   * ```
   */
  charge(inputBytes: number | undefined, complete: boolean): Charge | undefined {
    const sse = this.#sse;
    if (!sse && !complete && this.#overflow) this.#contentBytes = this.#fed;
    else if (!sse && !complete && this.#pending) {
      this.#contentBytes = contentBytes(this.#content, this.#pending);
    }
    const reported = this.finish();
    if (inputBytes === undefined || (reported && this.#final) || (complete && !sse)) {
      return reported && { usage: reported, estimated: false };
    }
    const input = this.#inputSeen ? this.#input : inputBytes;
    const output = Math.max(this.#output, this.#contentBytes);
    return { usage: { input, output, total: input + output }, estimated: true };
  }

  #line(line: string) {
    if (!line.startsWith("data:") || !line.includes('"usage')) return;
    try {
      this.#add(JSON.parse(line.slice(5)));
    } catch {
      // a malformed event is the client's problem, not the meter's
    }
  }

  #add(value: unknown) {
    const usage = usageOf(this.#format, value, this.#wantKinds && this.#format === "anthropic");
    if (!usage) return;
    this.#seen = true;
    if (usage.input !== undefined) this.#inputSeen = true;
    if (this.#format !== "anthropic" || (value as Json).usage !== undefined) this.#final = true;
    // Streams report running totals: the largest value seen is the final one.
    if (usage.input !== undefined) this.#input = Math.max(this.#input, usage.input);
    if (usage.output !== undefined) this.#output = Math.max(this.#output, usage.output);
    if (usage.total !== undefined) this.#total = Math.max(this.#total, usage.total);
    if (this.#wantKinds) this.#addKinds(value, usage);
  }

  /**
   * Anthropic reports its input kinds in `message_start` and its output, a running total, in
   * each `message_delta`: the largest count of each kind is the final one. The others report
   * all kinds in each event, as running totals: the event with the most tokens is the last
   * word (a kind may shrink in a later event that splits out another, as when candidates
   * gain an image breakdown), and it is split by kind once, when the answer ends.
   */
  #addKinds(value: unknown, usage: Partial<Usage>) {
    if (this.#format !== "anthropic") {
      const tokens = (usage.input ?? 0) + (usage.output ?? 0);
      if (tokens >= this.#kindsTokens) {
        this.#kindsOf = value;
        this.#kindsTokens = tokens;
      }
      return;
    }
    const kinds = usage.kinds!;
    const seen = this.#kinds ??= { input: 0, output: 0 };
    for (const kind in kinds) {
      const tokens = kinds[kind as UsageKind]!;
      if (tokens > (seen[kind as UsageKind] ?? 0)) seen[kind as UsageKind] = tokens;
    }
  }
}
