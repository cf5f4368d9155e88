/**
 * What a request's input adds up to while its body is walked: text tokens (images and
 * document pages included, which the providers bill as input tokens), audio tokens, the
 * cache writes it asks for, and the first reason its input cannot be bounded, if any.
 *
 * @module
 */

/** Why a value is `Json`: the parsed body's objects, read field by field. */
export type Json = Record<string, unknown>;

/** A running sum of a request's input tokens. */
export class Tally {
  /** Text tokens, with images and document pages. */
  text = 0;
  /** Audio tokens. */
  audio = 0;
  /** The first reason the input cannot be bounded, if one was found. */
  unbounded: string | undefined;
  /** The longest cache write asked for (Anthropic `cache_control`), if any. */
  cacheWrite: "5m" | "1h" | undefined;
  /** Tokens of a text, as the provider's tokenizer counts it (or a bound on them). */
  readonly count: (text: string) => number;

  /**
   * A tally that counts text with `count`.
   *
   * @example
   * ```ts
   * import { Tally } from "./tally.ts";
   *
   * const tally = new Tally((text) => text.length);
   * tally.words("hello");
   * tally.words({ a: 1 }); // not a string: its JSON
   * if (tally.text !== 5 + 7) throw new Error("miscounted");
   * ```
   */
  constructor(count: (text: string) => number) {
    this.count = count;
  }

  /** Adds the tokens of `value`: a string's own, anything else's JSON (nothing for null). */
  words(value: unknown): void {
    if (typeof value === "string") this.text += this.count(value);
    else if (value !== undefined && value !== null) {
      this.text += this.count(JSON.stringify(value));
    }
  }

  /** Notes that the input cannot be bounded, and why (the first reason is kept). */
  unbound(reason: string): void {
    this.unbounded ??= reason;
  }
}

/** `value` as an object (not an array), or undefined. */
export function object(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Json
    : undefined;
}

/** `value` as an array, or an empty one. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A count field (`n`, `candidateCount`) as a multiplier of at least 1. */
export function multiplier(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 1 ? Math.ceil(value) : 1;
}
