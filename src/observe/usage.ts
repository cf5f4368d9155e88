/**
 * Token usage as upstreams report it: in JSON bodies and in the SSE events of OpenAI
 * (chat completions and responses), Anthropic and Gemini streams. The meter reads a copy of
 * the bytes as they pass; it never holds a chunk back.
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
 * const meter = new UsageMeter("openai", "text/event-stream");
 * meter.feed(new TextEncoder().encode('data: {"usage":{"total_tokens":7}}\n\n'));
 * meter.finish(); // { input: 0, output: 0, total: 7 }
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
  #overflow = false;

  /** Bodies larger than this are not parsed as whole JSON (SSE is parsed line by line). */
  static readonly MAX_JSON_BYTES = 8 * 1024 * 1024;

  constructor(format: UsageFormat, contentType: string | null) {
    this.#format = format;
    this.#sse = contentType?.includes("text/event-stream") ?? false;
  }

  /** Reads one chunk of the body. */
  feed(chunk: Uint8Array): void {
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
    let data = this.#pending + text;
    let newline = data.indexOf("\n");
    while (newline !== -1) {
      this.#line(data.slice(0, newline));
      data = data.slice(newline + 1);
      newline = data.indexOf("\n");
    }
    this.#pending = data.length > 1024 * 1024 ? "" : data;
  }

  /** The usage the body reported, or undefined when it reported none. */
  finish(): Usage | undefined {
    if (this.#sse) {
      if (this.#pending) this.#line(this.#pending);
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
    // Streams report running totals: the largest value seen is the final one.
    if (usage.input !== undefined) this.#input = Math.max(this.#input, usage.input);
    if (usage.output !== undefined) this.#output = Math.max(this.#output, usage.output);
    if (usage.total !== undefined) this.#total = Math.max(this.#total, usage.total);
  }
}
