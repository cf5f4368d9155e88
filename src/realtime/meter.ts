/**
 * The usage of a realtime session, response by response, read from the events its upstream
 * sends: OpenAI reports each response's usage in `response.done`; Gemini's Live API sends
 * `usageMetadata` (in binary frames, like all its messages) during or after a turn, and the
 * last one of a turn is what the turn cost. Each response's usage is one {@linkcode Usage},
 * the shape every budget and price in the gateway reads.
 *
 * A response still running when the session ends (either side hung up) reported nothing: it
 * is charged an estimate, the input of the response before it (every response re-reads the
 * conversation) and the route's output clamp, or hanging up mid-answer would be free.
 *
 * @module
 */
import type { SocketProtocol } from "../config/presets/preset.ts";
import { type Charge, type Usage, usageOf } from "../usage/meter.ts";
import { type Json, object } from "../budget/tally.ts";

/**
 * A realtime response's usage in the shape of the Responses API (`input_tokens_details`,
 * `output_tokens_details`), which the gateway's usage reader knows: the realtime API spells
 * the details `input_token_details` and `output_token_details`.
 */
function openaiUsage(usage: Json): Json {
  const { input_token_details, output_token_details, ...rest } = usage;
  const shaped: Json = { ...rest };
  if (input_token_details !== undefined) shaped.input_tokens_details = input_token_details;
  if (output_token_details !== undefined) shaped.output_tokens_details = output_token_details;
  return shaped;
}

/**
 * The Live API's `usageMetadata` in the shape of `generateContent`'s: the Live API calls the
 * output `responseTokenCount` (and its details `responseTokensDetails`).
 */
function geminiUsage(meta: Json): Json {
  const { responseTokenCount, responseTokensDetails, ...rest } = meta;
  const shaped: Json = { ...rest };
  if (shaped.candidatesTokenCount === undefined && responseTokenCount !== undefined) {
    shaped.candidatesTokenCount = responseTokenCount;
  }
  if (shaped.candidatesTokensDetails === undefined && responseTokensDetails !== undefined) {
    shaped.candidatesTokensDetails = responseTokensDetails;
  }
  return shaped;
}

function complete(usage: Partial<Usage> | undefined): Usage | undefined {
  if (!usage) return undefined;
  const input = usage.input ?? 0;
  const output = usage.output ?? 0;
  return { ...usage, input, output, total: usage.total || input + output };
}

/**
 * Reads a session's usage from its upstream's events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionMeter } from "./meter.ts";
 *
 * const meter = new SessionMeter("openai", 500);
 * meter.read({ type: "response.created", response: { id: "resp_1" } });
 * const usage = meter.read({
 *   type: "response.done",
 *   response: { id: "resp_1", usage: { input_tokens: 120, output_tokens: 30, total_tokens: 150 } },
 * });
 * assert.deepEqual(usage, {
 *   input: 120,
 *   output: 30,
 *   total: 150,
 *   kinds: { input: 120, output: 30 }, // each kind at its own price
 * });
 *
 * // a response cut by a hang-up: the input before it and the clamp, as an estimate
 * meter.read({ type: "response.created", response: { id: "resp_2" } });
 * assert.deepEqual(meter.end(), {
 *   usage: { input: 120, output: 500, total: 620 },
 *   estimated: true,
 * });
 * ```
 */
export class SessionMeter {
  readonly #protocol: SocketProtocol;
  readonly #clamp: number;
  /** A response is running (OpenAI: created and not done; Gemini: a turn has begun). */
  #running = false;
  /** The input of the last response reported (the conversation so far). */
  #lastInput = 0;
  /** Gemini: the last usage of the turn, not charged yet. */
  #pending?: Usage;

  /** A meter for one session of `protocol`; `clamp` is the most output one response may have. */
  constructor(protocol: SocketProtocol, clamp: number) {
    this.#protocol = protocol;
    this.#clamp = clamp;
  }

  /** Whether a response is running now. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Reads one event from the upstream (a parsed JSON object): the usage of a response that it
   * ended, else undefined.
   */
  read(event: Json): Usage | undefined {
    return this.#protocol === "openai" ? this.#openai(event) : this.#gemini(event);
  }

  #openai(event: Json): Usage | undefined {
    const type = event.type;
    if (type === "response.created") {
      this.#running = true;
      return undefined;
    }
    if (type !== "response.done") return undefined;
    this.#running = false;
    const usage = object(object(event.response)?.usage);
    if (!usage) return undefined;
    const read = complete(usageOf("openai", { usage: openaiUsage(usage) }, true));
    if (read) this.#lastInput = read.input;
    return read;
  }

  #gemini(message: Json): Usage | undefined {
    const content = object(message.serverContent);
    if (content?.modelTurn !== undefined) this.#running = true;
    const meta = object(message.usageMetadata);
    if (meta) {
      this.#pending = complete(usageOf("gemini", { usageMetadata: geminiUsage(meta) }, true));
      if (this.#pending) this.#lastInput = this.#pending.input;
    }
    const ended = content?.turnComplete === true || content?.interrupted === true;
    if (ended) this.#running = false;
    // Usage that came after its turn ended is charged as it comes.
    if ((ended || (meta && !this.#running)) && this.#pending) {
      const usage = this.#pending;
      this.#pending = undefined;
      return usage;
    }
    return undefined;
  }

  /**
   * What is left to charge when the session ends: the last usage of an unfinished Gemini
   * turn as reported, or an estimate for a response still running that reported none.
   */
  end(): Charge | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) return { usage: pending, estimated: false };
    if (!this.#running) return undefined;
    this.#running = false;
    const input = this.#lastInput;
    const output = this.#clamp;
    return { usage: { input, output, total: input + output }, estimated: true };
  }
}
