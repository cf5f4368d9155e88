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

/** Tokens an upstream reported for one request. */
export interface Usage {
  /** Prompt (input) tokens. */
  input: number;
  /** Completion (output) tokens. */
  output: number;
  /** Their sum, or the upstream's own total when it reports one. */
  total: number;
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

/** Reads usage out of one JSON object (a whole body or one SSE event), or undefined. */
export function usageOf(format: UsageFormat, value: unknown): Partial<Usage> | undefined {
  if (Array.isArray(value)) {
    // Gemini's non-SSE stream is one JSON array; the last element holds the totals.
    for (let i = value.length - 1; i >= 0; i--) {
      const usage = usageOf(format, value[i]);
      if (usage) return usage;
    }
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const object = value as Json;
  if (format === "gemini") {
    const meta = object.usageMetadata as Json | undefined;
    if (!meta) return interactionUsage(object);
    const input = num(meta.promptTokenCount);
    const output = num(meta.candidatesTokenCount) + num(meta.thoughtsTokenCount);
    return { input, output, total: num(meta.totalTokenCount) || input + output };
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
    return result;
  }
  const input = num(usage.prompt_tokens ?? usage.input_tokens);
  const output = num(usage.completion_tokens ?? usage.output_tokens);
  return { input, output, total: num(usage.total_tokens) || input + output };
}

/**
 * Gemini Interactions report `usage.total_*`, in the body and in stream events (the last in
 * `interaction.completed`'s `interaction`); thought tokens are billed as output.
 */
function interactionUsage(object: Json): Partial<Usage> | undefined {
  const usage = (object.usage ?? (object.interaction as Json | undefined)?.usage) as
    | Json
    | undefined;
  if (!usage || typeof usage !== "object" || !("total_input_tokens" in usage)) return undefined;
  const input = num(usage.total_input_tokens);
  const output = num(usage.total_output_tokens) + num(usage.total_thought_tokens);
  return { input, output, total: num(usage.total_tokens) || input + output };
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
  readonly #content: RegExp;
  /** Bytes of generated text seen (for an estimate when usage never comes). */
  #contentBytes = 0;
  /** Bytes fed in all. */
  #fed = 0;

  /** Bodies larger than this are not parsed as whole JSON (SSE is parsed line by line). */
  static readonly MAX_JSON_BYTES = 8 * 1024 * 1024;

  constructor(format: UsageFormat, contentType: string | null) {
    this.#format = format;
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
    return {
      input: this.#input,
      output: this.#output,
      total: this.#total || this.#input + this.#output,
    };
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
    const usage = usageOf(this.#format, value);
    if (!usage) return;
    this.#seen = true;
    if (usage.input !== undefined) this.#inputSeen = true;
    if (this.#format !== "anthropic" || (value as Json).usage !== undefined) this.#final = true;
    // Streams report running totals: the largest value seen is the final one.
    if (usage.input !== undefined) this.#input = Math.max(this.#input, usage.input);
    if (usage.output !== undefined) this.#output = Math.max(this.#output, usage.output);
    if (usage.total !== undefined) this.#total = Math.max(this.#total, usage.total);
  }
}
