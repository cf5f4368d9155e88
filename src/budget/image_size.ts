/**
 * An image's pixel size, read from the first bytes of its base64 payload: PNG (the IHDR
 * chunk), GIF (the logical screen and every frame), WebP (VP8, VP8L, VP8X) and JPEG (the
 * first frame header, reached by hopping over the segments before it, EXIF thumbnails
 * included). Only the few bytes each format needs are decoded, so a 150 KB photo costs about
 * ten microseconds. Anything else (HEIC, AVIF, a payload that is not base64, a damaged
 * header) gives undefined, and the caller charges the most an image can cost.
 *
 * A decoder sizes the image from the same header, so a crafted header cannot make the
 * provider see a larger image than the one read here.
 *
 * @module
 */
import { decodeAt } from "./base64.ts";

/** Pixel size of an image. */
export interface ImageSize {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Segments or blocks walked at most before giving up. */
const MAX_STEPS = 100_000;

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number) =>
  b[i] * 0x1000000 + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);

function sized(width: number, height: number): ImageSize | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * The pixel size of the image whose base64 payload starts at character `at` of `text`, or
 * undefined when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageSize } from "./image_size.ts";
 *
 * // a GIF header: "GIF89a", then a logical screen of 640 x 480 and nothing else
 * const gif = btoa("GIF89a\x80\x02\xe0\x01\x00\x00\x00;");
 * assert.deepEqual(imageSize(gif), { width: 640, height: 480 });
 * assert.equal(imageSize(btoa("not an image at all, just text")), undefined);
 * ```
 */
export function imageSize(text: string, at = 0): ImageSize | undefined {
  const b = decodeAt(text, at, 0, 32);
  if (!b || b.length < 10) return undefined;
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    // PNG: the signature, then IHDR, which must come first
    if (b.length < 24 || u32be(b, 12) !== 0x49484452) return undefined;
    return sized(u32be(b, 16), u32be(b, 20));
  }
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return gifSize(text, at, b);
  if (b.length >= 30 && u32be(b, 0) === 0x52494646 && u32be(b, 8) === 0x57454250) {
    return webpSize(b);
  }
  if (b[0] === 0xff && b[1] === 0xd8) return jpegSize(text, at);
  return undefined;
}

/** WebP: the canvas of an extended file, else the size of its one frame. */
function webpSize(b: Uint8Array): ImageSize | undefined {
  const chunk = u32be(b, 12);
  if (chunk === 0x56503820) {
    // "VP8 ": a key frame's start code, then 14-bit width and height
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return sized(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  }
  if (chunk === 0x5650384c) {
    // "VP8L": the signature byte, then width - 1 and height - 1 in 14 bits each
    if (b[20] !== 0x2f) return undefined;
    const v = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return sized((v & 0x3fff) + 1, ((v >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 0x56503858) return sized(u24le(b, 24) + 1, u24le(b, 27) + 1); // "VP8X"
  return undefined;
}

/**
 * GIF: the logical screen, widened to every frame that reaches past it (decoders differ on
 * whether they clip such frames). Walks the blocks by their lengths, to the trailer.
 */
function gifSize(text: string, at: number, head: Uint8Array): ImageSize | undefined {
  let width = u16le(head, 6);
  let height = u16le(head, 8);
  const flags = head[10];
  let i = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    const b = decodeAt(text, at, i, 10);
    if (!b || b.length < 1) return undefined;
    if (b[0] === 0x3b) return sized(width, height); // trailer
    if (b[0] === 0x21) {
      i = skipBlocks(text, at, i + 2); // extension: introducer, label, then sub-blocks
    } else if (b[0] === 0x2c) {
      if (b.length < 10) return undefined;
      width = Math.max(width, u16le(b, 1) + u16le(b, 5));
      height = Math.max(height, u16le(b, 3) + u16le(b, 7));
      const local = b[9];
      // descriptor (10), local color table, LZW code size (1), then sub-blocks
      i = skipBlocks(text, at, i + 10 + (local & 0x80 ? 3 << ((local & 7) + 1) : 0) + 1);
    } else return undefined;
    if (i < 0) return undefined;
  }
  return undefined;
}

/** Skips the data sub-blocks starting at byte `i`; the offset past their terminator, or -1. */
function skipBlocks(text: string, at: number, i: number): number {
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    const b = decodeAt(text, at, i, 1);
    if (!b || b.length < 1) return -1;
    if (b[0] === 0) return i + 1;
    i += 1 + b[0];
  }
  return -1;
}

/** JPEG: the first SOFn segment, hopping over the segments before it by their lengths. */
function jpegSize(text: string, at: number): ImageSize | undefined {
  let i = 2;
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    // marker (2), length (2), precision (1), height (2), width (2)
    const h = decodeAt(text, at, i, 9);
    if (!h || h.length < 2 || h[0] !== 0xff) return undefined;
    const m = h[1];
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
      i += 2; // markers without a length
      continue;
    }
    if (h.length < 4) return undefined;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return h.length < 9 ? undefined : sized(u16be(h, 7), u16be(h, 5));
    }
    if (m === 0xd9 || m === 0xda) return undefined; // the end, or a scan before any frame
    i += 2 + u16be(h, 2);
  }
  return undefined;
}
