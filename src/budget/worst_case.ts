/**
 * What the budget stage asks of the code that knows providers and prices: a request's worst
 * case in tokens (its input as the provider counts it, and its most output), and a model's
 * prices (the most a worst case can cost, and what reported usage costs). The implementations
 * live in `input.ts` (the bound) and `money/` (prices); the stage knows only these shapes.
 *
 * @module
 */
import type { Usage } from "../usage/meter.ts";

/** A request's worst case, as the provider will count it. */
export interface RequestBound {
  /** Input tokens at most, by kind; `unbounded` when the body cannot say (a file id, a thread). */
  input: { text: number; audio: number; cacheWrite?: "5m" | "1h"; unbounded?: boolean };
  /** Output tokens at most (every candidate), and whether audio output was asked for. */
  output: { tokens: number; audio: boolean };
  /** `input.text + input.audio + output.tokens`. */
  tokens: number;
}

/** Where the bound is asked for: the provider's format, the path, the model, the output cap. */
export interface BoundContext {
  /** How the provider reads bodies and reports usage. */
  format: "openai" | "anthropic" | "gemini";
  /** The upstream path. */
  path: string;
  /** The model the request names, if any. */
  model?: string;
  /** The most output one candidate may write (the clamp the body rules left in the body). */
  outputCap: number;
}

/** Bounds a JSON body (sync where it can; async while a tokenizer loads). */
export type Bounder = (
  body: Uint8Array,
  context: BoundContext,
) => RequestBound | Promise<RequestBound>;

/** One model's prices, as the budget stage uses them (amounts in units of 1e-8 USD). */
export interface ModelPricing {
  /** The most a request of this worst case can cost, rounded up. */
  worst(bound: RequestBound): number;
  /** What reported (or estimated) usage costs, rounded up. */
  cost(usage: Usage): number;
  /** The model's context window in tokens, the bound of an input that cannot be bounded. */
  contextWindow?: number;
}

/** Prices by model. */
export interface Pricing {
  /** The prices a model is charged at, or undefined when it has none. */
  lookup(model: string): ModelPricing | undefined;
}
