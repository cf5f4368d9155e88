/**
 * An exact o200k/cl100k token count in bounded time.
 *
 * BPE merging is superlinear in the length of one pre-token, and gibberish defeats the merge
 * cache: 100 KB of `a` takes seconds in any JS or wasm tokenizer, so counting a client's text
 * as it is would let one request stall the event loop. The text is therefore cut into regions
 * only where both pre-tokenizers must end a piece (after a letter, before a space and a
 * letter, or before punctuation other than an apostrophe): no piece spans such a point, so
 * the regions' exact counts add up to the whole text's. Regions are counted exactly until the
 * deadline, and by their UTF-8 bytes after it; a stretch longer than a region with no cut in
 * it (a long run, the slow case) is counted by its bytes too. Bytes bound the tokens of a
 * byte-level BPE, so the count is never below the true one; it is only looser when the time
 * runs out.
 *
 * @module
 */
import { utf8Length } from "../bytes.ts";

/**
 * Where a pre-token must end: after a letter, before `" "` + letter or before punctuation
 * that is not an apostrophe (which may start a contraction such as `'s`).
 */
const CUT = /(?<=\p{L})(?= \p{L}|[^\s\p{L}\p{N}\p{M}'’])/gu;

/**
 * Every point of `text` where both pre-tokenizers must end a piece: the text's count is the
 * sum of the counts of the stretches between them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cuts } from "./bounded_count.ts";
 *
 * assert.deepEqual(cuts("Hi there, you!"), [2, 8, 13]); // before " there", ",", "!"
 * ```
 */
export function cuts(text: string): number[] {
  const points: number[] = [];
  for (const match of text.matchAll(new RegExp(CUT))) points.push(match.index);
  return points;
}

/** The longest region counted exactly, in UTF-16 units: about 1.5 ms of BPE at worst. */
export const MAX_REGION = 512;

/**
 * Counts the tokens of `text` with `exact` (a whole-string counter), cutting it where the
 * count stays exact, and by bytes past `deadline` (a `performance.now()` time) or for long
 * runs. Without `exact`, counts bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundedCount } from "./bounded_count.ts";
 *
 * // a stand-in counter: one token per word and per punctuation mark
 * const words = (text: string) => text.match(/\w+|[^\w\s]/g)?.length ?? 0;
 * const soon = performance.now() + 5;
 * assert.equal(boundedCount("Hello, world!", words, soon), 4);
 * assert.equal(boundedCount("a".repeat(100_000), words, soon), 100_000); // a long run: bytes
 * assert.equal(boundedCount("Hello, world!", words, 0), 13); // past the deadline: bytes
 * ```
 */
export function boundedCount(
  text: string,
  exact: ((text: string) => number) | undefined,
  deadline: number,
  maxRegion: number = MAX_REGION,
): number {
  const n = text.length;
  if (!exact) return utf8Length(text);
  const region = (from: number, to: number) =>
    performance.now() < deadline ? exact(text.slice(from, to)) : utf8Length(text, from, to);
  if (n <= maxRegion) return region(0, n);
  const next = new NextCut(text);
  const half = Math.max(1, maxRegion >> 1);
  let total = 0;
  let start = 0;
  while (n - start > maxRegion) {
    if (performance.now() >= deadline) return total + utf8Length(text, start, n);
    // A cut in the region's second half: one search per region, however dense the cuts.
    let end = next.from(start + half);
    if (end > start + maxRegion) {
      const early = cutWithin(text, start + 1, start + half);
      if (early === -1) {
        total += utf8Length(text, start, end); // no cut for a whole region: a long run
        start = end;
        continue;
      }
      end = early;
    }
    total += region(start, end);
    start = end;
  }
  return start < n ? total + region(start, n) : total;
}

/**
 * The first cut in `text[from, to)`, or -1, scanning only that stretch (and the characters
 * the cut's look-behind and look-ahead read). A window that splits a surrogate pair can only
 * hide a cut, never make one: the regions are then longer, and still exact.
 */
function cutWithin(text: string, from: number, to: number): number {
  const window = text.slice(from - 1, to + 2);
  const cut = new RegExp(CUT);
  cut.lastIndex = 1;
  const match = cut.exec(window);
  return match && match.index < to - from + 1 ? from - 1 + match.index : -1;
}

/**
 * The first cut at or after a point (the text's length when there is none), remembering the
 * last two searches so that a long stretch without cuts is scanned once, not once a region.
 */
class NextCut {
  readonly #text: string;
  readonly #cut = new RegExp(CUT);
  readonly #memo: [from: number, at: number][] = [[-1, -1], [-1, -1]];

  constructor(text: string) {
    this.#text = text;
  }

  from(point: number): number {
    const text = this.#text;
    // Never start inside a surrogate pair: a `u` regexp would step back to the pair's start.
    const code = text.charCodeAt(point);
    if (code >= 0xdc00 && code <= 0xdfff && point > 0) {
      const before = text.charCodeAt(point - 1);
      if (before >= 0xd800 && before <= 0xdbff) point++;
    }
    for (const [from, at] of this.#memo) {
      if (from !== -1 && point >= from && point <= at) return at;
    }
    const cut = this.#cut;
    cut.lastIndex = point;
    const match = cut.exec(text);
    const at = match ? match.index : text.length;
    this.#memo[1] = this.#memo[0];
    this.#memo[0] = [point, at];
    return at;
  }
}
