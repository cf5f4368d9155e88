/**
 * The worst case of a request, tight and sound: the most input and output tokens the
 * provider can bill for it, read from its JSON body. Text is counted as the provider counts
 * it (OpenAI's tokenizer exactly, in bounded time; Anthropic's, Gemini's and any model whose
 * tokenizer is not known by a bound on bytes), with each provider's message framing and
 * tool prompts; images, document pages and seconds of audio at their documented maxima,
 * never by their base64 length; the output is the cap the body rules left in the body,
 * times the completions asked for.
 *
 * When the body names input whose size it does not show (a file id, a stored response, a
 * built-in tool that fetches content, media of unknown length), the bound says so
 * (`unbounded`), and the caller reserves the model's context window for the input instead.
 * A body that is not a JSON object, or an endpoint this does not know, is bounded by its
 * bytes (every BPE token stands for at least one byte) and the output cap.
 *
 * @module
 */
import { pathModel } from "../config/presets/gemini.ts";
import type { UsageFormat } from "../config/presets/preset.ts";
import { messagesInput } from "./anthropic_input.ts";
import { boundedCount } from "./bounded_count.ts";
import { embedInput, generateInput, interactionInput } from "./gemini_input.ts";
import {
  chatInput,
  completionsInput,
  embeddingsInput,
  type OutputShape,
  responsesInput,
} from "./openai_input.ts";
import { type Json, object, Tally } from "./tally.ts";
import { nfkcBound } from "./text_bound.ts";
import { type Counter, counterFor, encodingFor, loadEncoding } from "./tokenize.ts";

/** What {@linkcode boundRequest} needs besides the body. */
export interface BoundContext {
  /** The upstream's API format (the route's preset `usage`). */
  format: UsageFormat;
  /** The upstream path (`/v1/chat/completions`, `/v1beta/models/gemini-2.5-flash:generateContent`). */
  path: string;
  /** The model, when the caller knows it; else the body's `model`, else the path's. */
  model?: string;
  /** The output cap the body rules left in the body (else the route's clamp). */
  outputCap: number;
  /**
   * Milliseconds of exact counting allowed (10 when unset); text left after them is counted
   * by its bytes, which is sound but looser.
   */
  deadlineMs?: number;
}

/** Which kind of endpoint a request went to, as far as its bound is concerned. */
export type Endpoint =
  | "chat" // OpenAI Chat Completions
  | "responses" // OpenAI Responses (and compaction)
  | "completions" // OpenAI legacy completions
  | "embeddings" // OpenAI embeddings, Gemini embedContent and batchEmbedContents
  | "messages" // Anthropic Messages
  | "generate" // Gemini generateContent and streamGenerateContent
  | "interactions" // Gemini Interactions
  | "free" // token counting and moderation: the provider bills nothing
  | "other"; // anything else: the body's bytes and the output cap

/** The most input a request can be billed for. */
export interface InputBound {
  /** Text tokens, with images and document pages (billed as input tokens). */
  text: number;
  /** Audio tokens (billed at the audio input price where there is one). */
  audio: number;
  /**
   * The longest prompt-cache write the request asks for (Anthropic `cache_control`: `5m`,
   * or `1h` when any breakpoint says `ttl: "1h"`), billed above the input price.
   */
  cacheWrite?: "5m" | "1h";
  /**
   * True when part of the input has no bound here: the counts above are then only what
   * could be counted, and the caller should reserve the model's context window instead.
   */
  unbounded?: boolean;
  /** Why the input is unbounded (the first reason found). */
  reason?: string;
}

/** The most output a request can be billed for. */
export interface OutputBound {
  /** Output tokens: the cap times `n` / `best_of` / `candidateCount`, plus a prediction. */
  tokens: number;
  /** Whether the output may be audio (`modalities`, `responseModalities`). */
  audio: boolean;
  /** Whether the output may be images (Gemini `responseModalities`, an image tool). */
  image: boolean;
}

/** A request's worst case. */
export interface RequestBound {
  /** The kind of endpoint, as recognised from the path. */
  endpoint: Endpoint;
  /** The model the bound was computed for, if known. */
  model?: string;
  /** The input side. */
  input: InputBound;
  /** The output side. */
  output: OutputBound;
  /** `input.text + input.audio + output.tokens`. */
  tokens: number;
}

const DEFAULT_DEADLINE_MS = 10;

/** The endpoint a path of `format` goes to. */
function endpointOf(format: UsageFormat, path: string): Endpoint {
  if (format === "openai") {
    if (/\/chat\/completions$/.test(path)) return "chat";
    if (/\/completions$/.test(path)) return "completions";
    if (/\/responses(?:\/compact)?$/.test(path)) return "responses";
    if (/\/responses\/input_tokens$|\/moderations$/.test(path)) return "free";
    if (/\/embeddings$/.test(path)) return "embeddings";
  } else if (format === "anthropic") {
    if (/\/messages$/.test(path)) return "messages";
    if (/\/messages\/count_tokens$/.test(path)) return "free";
  } else {
    if (/:(?:generateContent|streamGenerateContent)$/.test(path)) return "generate";
    if (/:(?:embedContent|batchEmbedContents)$/.test(path)) return "embeddings";
    if (/:countTokens$/.test(path)) return "free";
    if (/\/interactions$/.test(path)) return "interactions";
  }
  return "other";
}

/** The output cap in whole tokens (a cap that is not a number bounds nothing). */
function outputCap(context: BoundContext): number {
  const cap = context.outputCap;
  return Number.isNaN(cap) ? Infinity : Math.max(0, Math.ceil(cap));
}

/** The bound of a body that cannot be read: its bytes and the output cap. */
function byBytes(endpoint: Endpoint, bytes: number, cap: number, model?: string): RequestBound {
  return {
    endpoint,
    model,
    input: { text: bytes, audio: 0 },
    output: { tokens: cap, audio: false, image: false },
    tokens: bytes + cap,
  };
}

function walk(
  endpoint: Endpoint,
  body: Json,
  t: Tally,
  model: string | undefined,
  context: BoundContext,
): OutputShape {
  switch (endpoint) {
    case "chat":
      return chatInput(body, t, model);
    case "responses": {
      const shape = responsesInput(body, t, model);
      if (context.path.endsWith("/compact")) t.unbound("a compaction, whose output has no cap");
      return shape;
    }
    case "completions":
      return completionsInput(body, t);
    case "embeddings":
      return context.format === "gemini" ? embedInput(body, t, model) : embeddingsInput(body, t);
    case "messages":
      return messagesInput(body, t, model);
    case "generate":
      return generateInput(body, t, model);
    default:
      return interactionInput(body, t, model);
  }
}

/**
 * Computes the bound, counting text with `exact` (an OpenAI encoding's counter, through the
 * bounded counter; `null` when it cannot be loaded: bytes, which bound a BPE that does not
 * normalise) or, without one, the NFKC byte bound (Anthropic, Gemini, and models of unknown
 * tokenizer behind an OpenAI-shaped API, which may normalise as SentencePiece models do).
 */
function compute(
  endpoint: Endpoint,
  body: Json,
  context: BoundContext,
  model: string | undefined,
  exact?: Counter | null,
): RequestBound {
  const deadline = performance.now() + (context.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const count = exact === undefined
    ? nfkcBound
    : (text: string) => boundedCount(text, exact ?? undefined, deadline);
  const t = new Tally(count);
  let shape: OutputShape;
  try {
    shape = walk(endpoint, body, t, model, context);
  } catch {
    // nested past the stack, say: the input is not known, the output is at most the cap
    t.unbound("a body that could not be walked");
    shape = { times: 1, extra: 0, audio: false, image: false };
  }
  const cap = outputCap(context);
  const output = cap * shape.times + (shape.times > 0 ? shape.extra : 0);
  const input: InputBound = { text: t.text, audio: t.audio };
  if (t.cacheWrite) input.cacheWrite = t.cacheWrite;
  if (t.unbounded !== undefined) {
    input.unbounded = true;
    input.reason = t.unbounded;
  }
  return {
    endpoint,
    model,
    input,
    output: { tokens: output, audio: shape.audio, image: shape.image },
    tokens: input.text + input.audio + output,
  };
}

/**
 * The worst case of the request whose JSON body is `body` (the bytes that will be sent),
 * under `context`. Synchronous, except for an OpenAI request whose tokenizer is still
 * loading: it then returns a promise (start the load early with `prepareTokenizer`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundRequest } from "./input.ts";
 *
 * const body = new TextEncoder().encode(
 *   '{"model":"claude-sonnet-4-5","max_tokens":40,"messages":[{"role":"user","content":"hi"}]}',
 * );
 * const bound = await boundRequest(body, { format: "anthropic", path: "/v1/messages", outputCap: 40 });
 * assert.equal(bound.tokens, 57); // 2 bytes of text, 5 per message, 10 per request, 40 out
 * assert.equal(bound.input.unbounded, undefined);
 * ```
 */
export function boundRequest(
  body: Uint8Array,
  context: BoundContext,
): RequestBound | Promise<RequestBound> {
  const endpoint = endpointOf(context.format, context.path);
  const inPath = pathModel(context.path);
  if (endpoint === "free") {
    return {
      endpoint,
      model: context.model ?? inPath,
      input: { text: 0, audio: 0 },
      output: { tokens: 0, audio: false, image: false },
      tokens: 0,
    };
  }
  const cap = outputCap(context);
  if (endpoint === "other") {
    return byBytes(endpoint, body.byteLength, cap, context.model ?? inPath);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return byBytes(endpoint, body.byteLength, cap, context.model ?? inPath);
  }
  const json = object(parsed);
  if (!json) return byBytes(endpoint, body.byteLength, cap, context.model ?? inPath);
  const model = context.model ?? (typeof json.model === "string" ? json.model : inPath);
  const encoding = context.format === "openai" ? encodingFor(model) : undefined;
  if (!encoding) return compute(endpoint, json, context, model);
  const exact = counterFor(encoding);
  if (exact !== undefined) return compute(endpoint, json, context, model, exact);
  return loadEncoding(encoding).then((loaded) => compute(endpoint, json, context, model, loaded));
}
