/**
 * Reading a few bytes out of a base64 payload without decoding the rest: an image's size, an
 * audio clip's header. Byte `i` of the payload lies in the four characters that start at
 * `⌊i / 3⌋ · 4`, so any byte range is decoded by itself. Both alphabets (standard and URL
 * safe) are read; anything else (whitespace, a stray character) makes the read fail, and the
 * caller then charges the most the media can cost.
 *
 * @module
 */

const VALUES = new Int8Array(128).fill(-1);
for (
  const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].entries()
) {
  VALUES[c.charCodeAt(0)] = i;
}
VALUES["-".charCodeAt(0)] = 62;
VALUES["_".charCodeAt(0)] = 63;

/**
 * Decodes bytes `[from, from + n)` of the base64 payload that starts at character `at` of
 * `text`. Returns fewer bytes when the payload ends first, and undefined when a character
 * that is not base64 stands in the way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAt } from "./base64.ts";
 *
 * const text = "data:," + btoa("hello world");
 * assert.deepEqual(decodeAt(text, 6, 6, 5), new TextEncoder().encode("world"));
 * assert.equal(decodeAt("ab cd", 0, 0, 3), undefined); // whitespace: not read
 * ```
 */
export function decodeAt(
  text: string,
  at: number,
  from: number,
  n: number,
): Uint8Array | undefined {
  const skip = from % 3;
  const out = new Uint8Array(n + skip);
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = at + ((from - skip) / 3) * 4; i < text.length && o < n + skip; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) break; // "=": the payload's end
    const v = c < 128 ? VALUES[c] : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(skip, Math.max(skip, o));
}

/**
 * The number of bytes a base64 payload starting at character `at` stands for (an upper
 * bound when it holds characters that are not base64).
 *
 * @example
 * ```ts
 * import { payloadBytes } from "./base64.ts";
 *
 * if (payloadBytes(btoa("hello"), 0) !== 5) throw new Error("miscounted");
 * ```
 */
export function payloadBytes(text: string, at: number): number {
  let end = text.length;
  while (end > at && text.charCodeAt(end - 1) === 0x3d) end--;
  return Math.floor(((end - at) * 3) / 4);
}

/** `data:<type>;base64,` at the start of a URL: the media type and where the payload starts. */
const DATA_URL = /^data:([^;,]*)(?:;[^;,]*)*;base64,/i;

/**
 * Splits a `data:` URL with a base64 payload into its media type (lower case) and the offset
 * of its payload; undefined for any other URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataUrl } from "./base64.ts";
 *
 * assert.deepEqual(dataUrl("data:image/PNG;base64,iVBO"), { type: "image/png", at: 22 });
 * assert.equal(dataUrl("https://example.com/cat.png"), undefined);
 * ```
 */
export function dataUrl(url: string): { type: string; at: number } | undefined {
  const match = DATA_URL.exec(url.slice(0, 256));
  return match ? { type: match[1].toLowerCase(), at: match[0].length } : undefined;
}
