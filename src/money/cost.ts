/**
 * What a request costs, exactly, in units of 1e-8 USD: `ceil(Σ tokens × price / 1e6)` over
 * the disjoint kinds of usage, computed in BigInt (prices are USD per 1M tokens × 1e8, so each
 * product is in 1e-14 USD and never rounds; the sum is rounded up once, by less than one unit).
 * {@linkcode costOf} prices what an upstream reported; {@linkcode worstCost} is the most a
 * request can cost, which a budget reserves before it is sent.
 *
 * Results are plain numbers, exact up to `Number.MAX_SAFE_INTEGER` units (about $90 million);
 * a cost beyond that is given as `Number.MAX_SAFE_INTEGER`, past any budget.
 *
 * @module
 */
import { INPUT_KINDS, OUTPUT_KINDS, type Usage } from "../usage/meter.ts";
import type { KindPrice, ModelPrice, PriceKind } from "./prices.ts";

const MILLION = 1_000_000n;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A token count as a BigInt: whole, never negative (an upstream's count is not trusted). */
function tokens(count: number | undefined): bigint {
  if (count === undefined || !(count > 0)) return 0n;
  return count > Number.MAX_SAFE_INTEGER ? MAX : BigInt(Math.ceil(count));
}

/** The price of a kind for a request with `input` tokens in all (the tier it passed). */
function priceAt(price: KindPrice, input: bigint): bigint {
  let units = price.base;
  for (const tier of price.tiers) if (input > BigInt(tier.above)) units = tier.price;
  return units;
}

/** The highest price of a kind any request of at most `input` tokens can pay. */
function highestAt(price: KindPrice, input: bigint): bigint {
  let units = price.base;
  for (const tier of price.tiers) {
    if (input > BigInt(tier.above) && tier.price > units) units = tier.price;
  }
  return units;
}

/** `sum` (1e-14 USD) in units of 1e-8 USD, rounded up, at most `MAX_SAFE_INTEGER`. */
function units(sum: bigint): number {
  const rounded = (sum + MILLION - 1n) / MILLION;
  return Number(rounded > MAX ? MAX : rounded);
}

/**
 * The exact cost of `usage` at `price`, in units of 1e-8 USD, rounded up.
 *
 * - With {@linkcode Usage.kinds}, each kind is priced at its own price; input tokens no kind
 *   holds (`usage.input` beyond the kinds' sum) at the input price, and output tokens likewise
 *   at the output price.
 * - Without kinds (an estimate, or a meter not asked for them), `usage.input` is priced at
 *   the input price and `usage.output` at the output price.
 * - A tiered price is chosen by the request's input tokens (`usage.input`, cached and written
 *   included): past a tier's `above`, every token of that kind costs the tier's price, as
 *   `@pydantic/genai-prices` computes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costOf } from "./cost.ts";
 * import { compilePrices } from "./prices.ts";
 *
 * const book = compilePrices(null, {
 *   "gpt-4o-mini": { input: 0.15, output: 0.6, cached_input: 0.075 },
 * });
 * const price = book.lookup("gpt-4o-mini")!;
 * // 86 @ $0.15 + 1,920 cached @ $0.075 + 300 @ $0.60 per 1M tokens = $0.0003369
 * const usage = {
 *   input: 2006,
 *   output: 300,
 *   total: 2306,
 *   kinds: { input: 86, cached_input: 1920, output: 300 },
 * };
 * assert.equal(costOf(usage, price), 33_690);
 * // one cached token costs 7.5 units: charged 8, never 7
 * assert.equal(costOf({ input: 1, output: 0, total: 1, kinds: { input: 0, cached_input: 1, output: 0 } }, price), 8);
 * ```
 */
export function costOf(usage: Usage, price: ModelPrice): number {
  const input = tokens(usage.input);
  const prices = price.prices;
  const kinds = usage.kinds;
  if (!kinds) {
    return units(
      input * priceAt(prices.input, input) +
        tokens(usage.output) * priceAt(prices.output, input),
    );
  }
  let sum = 0n;
  let inputSeen = 0n;
  for (const kind of INPUT_KINDS) {
    const count = tokens(kinds[kind]);
    inputSeen += count;
    if (count) sum += count * priceAt(prices[kind], input);
  }
  if (input > inputSeen) sum += (input - inputSeen) * priceAt(prices.input, input);
  let outputSeen = 0n;
  for (const kind of OUTPUT_KINDS) {
    const count = tokens(kinds[kind]);
    outputSeen += count;
    if (count) sum += count * priceAt(prices[kind], input);
  }
  const output = tokens(usage.output);
  if (output > outputSeen) sum += (output - outputSeen) * priceAt(prices.output, input);
  return units(sum);
}

/** The input of a request, as a budget bounds it before sending it. */
export interface WorstInput {
  /** Tokens of text and everything not counted below (an upper bound). */
  text: number;
  /** Tokens of audio (an upper bound), priced at `audio_input`. */
  audio?: number;
  /** Tokens of images and documents counted apart, priced at `image_input`. */
  image?: number;
  /** Tokens of video counted apart, priced at `video_input`. */
  video?: number;
  /**
   * Whether the request may write the provider's cache, and for how long: Anthropic's
   * `cache_control` (`"1h"` when a `ttl` of `1h` appears). OpenAI writes its cache unasked:
   * where the table prices those writes, they are counted whatever this says.
   */
  cacheWrite?: "5m" | "1h";
}

/** The output of a request, as a budget bounds it before sending it. */
export interface WorstOutput {
  /** The most output tokens the request may generate (its clamped maximum, × choices). */
  tokens: number;
  /** Whether it asks for audio (`modalities` or `responseModalities` naming audio). */
  audio?: boolean;
}

/**
 * The most a request can cost at `price`, in units of 1e-8 USD, rounded up: the reservation a
 * budget makes before sending it.
 *
 * - Every input token is priced at the highest input-side price that can apply to it: text at
 *   `input`, or `cache_write` / `cache_write_1h` when the request may write the cache (see
 *   {@linkcode WorstInput.cacheWrite}); audio, images and video at the larger of their own
 *   price and that. Cached reads cost less than input and are never assumed.
 * - Every output token is priced at the highest output-side price it can be billed at:
 *   `output`, `reasoning`, `image_output` and `video_output` (models that price images or
 *   video out may produce them unasked), and `audio_output` when audio is asked for.
 * - Each price is the highest of its tiers that the input bound can reach.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { worstCost } from "./cost.ts";
 * import { compilePrices } from "./prices.ts";
 *
 * const book = compilePrices(null, {
 *   "claude-sonnet-4-0": { input: 3, output: 15, cache_write: 3.75, cache_write_1h: 6 },
 * });
 * const price = book.lookup("claude-sonnet-4-0")!;
 * // 1,000 input tokens at $3 and 300 output tokens at $15 per 1M: $0.0075
 * assert.equal(worstCost({ text: 1000 }, { tokens: 300 }, price), 750_000);
 * // the same request with cache_control, ttl 1h: its input may all be written at $6
 * assert.equal(worstCost({ text: 1000, cacheWrite: "1h" }, { tokens: 300 }, price), 1_050_000);
 * ```
 */
export function worstCost(input: WorstInput, output: WorstOutput, price: ModelPrice): number {
  const { prices, explicit } = price;
  const text = tokens(input.text);
  const audio = tokens(input.audio);
  const image = tokens(input.image);
  const video = tokens(input.video);
  const all = text + audio + image + video;
  const top = (kinds: PriceKind[]): bigint => {
    let units = 0n;
    for (const kind of kinds) {
      const at = highestAt(prices[kind], all);
      if (at > units) units = at;
    }
    return units;
  };
  const inputKinds: PriceKind[] = ["input"];
  const unasked = price.provider === "openai" && explicit.has("cache_write");
  if (input.cacheWrite || unasked) inputKinds.push("cache_write");
  if (input.cacheWrite === "1h") inputKinds.push("cache_write_1h");
  const textPrice = top(inputKinds);
  const outputKinds: PriceKind[] = ["output", "reasoning", "image_output", "video_output"];
  if (output.audio) outputKinds.push("audio_output");
  const max = (a: bigint, b: bigint) => a > b ? a : b;
  return units(
    text * textPrice +
      audio * max(top(["audio_input"]), textPrice) +
      image * max(top(["image_input"]), textPrice) +
      video * max(top(["video_input"]), textPrice) +
      tokens(output.tokens) * top(outputKinds),
  );
}
