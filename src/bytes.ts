/**
 * Bytes and text as bytes: the one copy loop the redactor, the event framer, the body reader
 * and the capped reader share, the one search for bytes in bytes, and the UTF-8 length of a
 * string counted without encoding it.
 *
 * @module
 */

/**
 * Joins `parts` into one array, after `room` free bytes (a reader that leaves room in front
 * for fields a rule adds returns `result.subarray(room)`). One part and no room is returned
 * as it is, without a copy.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 *
 * const joined = concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * if (joined.join() !== "1,2,3") throw new Error("not joined");
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], room = 0): Uint8Array<ArrayBuffer> {
  if (parts.length === 1 && room === 0 && parts[0].buffer instanceof ArrayBuffer) {
    return parts[0] as Uint8Array<ArrayBuffer>;
  }
  let size = room;
  for (const part of parts) size += part.byteLength;
  const out = new Uint8Array(size);
  let offset = room;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * Where `needle` (not empty) starts in `data` at or after `from`, or -1.
 *
 * @example
 * ```ts
 * import { indexOfBytes } from "./bytes.ts";
 *
 * const data = new TextEncoder().encode("a key: sk-1, again sk-1");
 * const needle = new TextEncoder().encode("sk-1");
 * if (indexOfBytes(data, needle, 0) !== 7 || indexOfBytes(data, needle, 8) !== 19) {
 *   throw new Error("missed");
 * }
 * ```
 */
export function indexOfBytes(data: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = data.length - needle.length;
  for (
    let at = data.indexOf(first, from);
    at !== -1 && at <= last;
    at = data.indexOf(first, at + 1)
  ) {
    let i = 1;
    while (i < needle.length && data[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
  }
  return -1;
}

/**
 * UTF-8 bytes of `text[start, end)` as `TextEncoder` would write them (a lone surrogate
 * becomes U+FFFD, 3 bytes), counted without encoding.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./bytes.ts";
 *
 * if (utf8Length("héllo 👋") !== 11) throw new Error("miscounted");
 * ```
 */
export function utf8Length(text: string, start = 0, end: number = text.length): number {
  let bytes = end - start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 2 code units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
