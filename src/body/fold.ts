/**
 * JSON object keys compared the way Go's `encoding/json` matches them to struct fields: a key
 * names a field when the two are equal under Unicode simple case folding (`"WEBHOOK"`,
 * `"Webhook"` and `"webhook"` are one field; so are `"ſession"` with a long s and `"session"`,
 * and `"\u212Aey"` with a Kelvin sign and `"key"`). Upstreams written in Go (inference.sh)
 * read bodies this way, so a policy over their fields must too.
 *
 * @module
 */

/**
 * Folding pairs that no simple case mapping connects (their case mappings are several
 * characters long), from Unicode's CaseFolding.txt: the first folds to the second.
 */
const EXTRA_FOLDS: Readonly<Record<number, number>> = {
  0x1fd3: 0x0390, // ΐ
  0x1fe3: 0x03b0, // ΰ
  0xfb05: 0xfb06, // ﬅ ﬆ
};

const cache = new Map<number, number>();

/** The single code point `text` holds, or undefined when it holds more or fewer. */
function single(text: string): number | undefined {
  const cp = text.codePointAt(0);
  return cp !== undefined && String.fromCodePoint(cp).length === text.length ? cp : undefined;
}

/** Whether two code points are equal under the regex engine's simple case folding. */
function sameFold(a: number, b: number): boolean {
  if (a === b) return true;
  const source = String.fromCodePoint(a).replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  return new RegExp(`^${source}$`, "iu").test(String.fromCodePoint(b));
}

/**
 * One member of `cp`'s simple case folding orbit, the same for every member: the upper case
 * of its lower case where that is one character of the same orbit (which keeps ASCII letters
 * upper case, and takes `ſ` to `S` and the Kelvin sign to `K`), else its lower case, else
 * itself. Go takes the orbit's smallest member instead; only equality matters here. Each
 * step is confirmed against the regex engine's case-insensitive matching, which follows
 * Unicode simple case folding, so `İ` and `ı` stay apart from `i`, as in Go.
 */
function foldRune(cp: number): number {
  const known = cache.get(cp);
  if (known !== undefined) return known;
  const start = EXTRA_FOLDS[cp] ?? cp;
  const char = String.fromCodePoint(start);
  const lower = single(char.toLowerCase());
  const upperOfLower = lower === undefined
    ? undefined
    : single(String.fromCodePoint(lower).toUpperCase());
  const upper = single(char.toUpperCase());
  let folded = start;
  for (const candidate of [upperOfLower, lower, upper]) {
    if (candidate !== undefined && sameFold(start, candidate)) {
      folded = candidate;
      break;
    }
  }
  if (cache.size < 4096) cache.set(cp, folded);
  return folded;
}

/**
 * Folds a key to the form Go's `encoding/json` compares: two keys name the same struct field
 * exactly when their folded forms are equal. ASCII letters fold to upper case; every other
 * character to one member of its simple case folding orbit (`ſ` to `S`, the Kelvin sign to
 * `K`). A lone surrogate folds to U+FFFD, as Go decodes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldKey } from "./fold.ts";
 *
 * assert.equal(foldKey("webhook"), foldKey("WEBHOOK"));
 * assert.equal(foldKey("ſession"), foldKey("session"));
 * assert.notEqual(foldKey("ıd"), foldKey("id")); // a dotless i has no simple folding
 * ```
 */
export function foldKey(key: string): string {
  let ascii = true;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return key.toUpperCase();
  let out = "";
  for (const char of key) {
    const cp = char.codePointAt(0)!;
    if (cp < 0x80) out += char.toUpperCase();
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\ufffd";
    else out += String.fromCodePoint(foldRune(cp));
  }
  return out;
}
