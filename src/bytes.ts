/**
 * Byte arrays joined: the one copy loop the redactor, the event framer, the body reader and
 * the capped reader share.
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
