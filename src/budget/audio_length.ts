/**
 * How many seconds an audio clip lasts, at most, read from its base64 payload without
 * decoding it: exactly for PCM-like WAV (the data chunk's bytes over the frame rate), and as
 * a bound for MP3 (no MPEG audio frame has a bit rate under 8 kbit/s, so a clip lasts at
 * most one second per 1,000 bytes; free-format streams, which may, are not read). Any other
 * format gives undefined: compressed formats with silence suppression or huge frames (Opus,
 * FLAC) can last hours in a few bytes, so the caller must not bound them by size.
 *
 * @module
 */
import { decodeAt, payloadBytes } from "./base64.ts";

/** MPEG audio's lowest bit rate, 8 kbit/s, in bytes per second. */
const MP3_MIN_BYTES_PER_SECOND = 1000;

/** WAV format tags whose block is one sample frame: PCM, float, A-law, μ-law, extensible. */
const FRAME_FORMATS = new Set([1, 3, 6, 7, 0xfffe]);

/** Chunks walked at most in a WAV file. */
const MAX_CHUNKS = 1024;

const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u32le = (b: Uint8Array, i: number) =>
  (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 0x1000000;

/**
 * The most seconds the WAV or MP3 clip whose base64 payload starts at character `at` of
 * `text` can last, or undefined when it cannot be told.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { audioSeconds } from "./audio_length.ts";
 *
 * // a WAV header: 8 kHz, mono, 16 bits, and a data chunk of 32,000 bytes: 2 seconds
 * const header = new Uint8Array(44);
 * const view = new DataView(header.buffer);
 * header.set(new TextEncoder().encode("RIFF"), 0);
 * view.setUint32(4, 36 + 32_000, true);
 * header.set(new TextEncoder().encode("WAVEfmt "), 8);
 * view.setUint32(16, 16, true);
 * view.setUint16(20, 1, true); // PCM
 * view.setUint16(22, 1, true); // mono
 * view.setUint32(24, 8000, true);
 * view.setUint32(28, 16_000, true);
 * view.setUint16(32, 2, true); // bytes per frame
 * view.setUint16(34, 16, true);
 * header.set(new TextEncoder().encode("data"), 36);
 * view.setUint32(40, 32_000, true);
 * const wav = new Uint8Array(44 + 32_000);
 * wav.set(header);
 * assert.equal(audioSeconds(btoa(String.fromCharCode(...wav))), 2);
 * ```
 */
export function audioSeconds(text: string, at = 0): number | undefined {
  const head = decodeAt(text, at, 0, 12);
  if (!head || head.length < 12) return undefined;
  if (u32le(head, 0) === 0x46464952 && u32le(head, 8) === 0x45564157) {
    return wavSeconds(text, at); // "RIFF" .... "WAVE"
  }
  return mp3Seconds(text, at, head);
}

function wavSeconds(text: string, at: number): number | undefined {
  const total = payloadBytes(text, at);
  let frameBytes = 0;
  let rate = 0;
  let i = 12;
  for (let chunks = 0; chunks < MAX_CHUNKS; chunks++) {
    const h = decodeAt(text, at, i, 26);
    if (!h || h.length < 8) return undefined;
    const id = u32le(h, 0);
    const size = u32le(h, 4);
    if (id === 0x20746d66) {
      // "fmt ": format, channels, sample rate, byte rate, block align, bits per sample
      if (h.length < 24) return undefined;
      const format = u16le(h, 8);
      const channels = u16le(h, 10);
      const bits = u16le(h, 22);
      frameBytes = u16le(h, 20);
      rate = u32le(h, 12);
      if (format === 0xfffe) {
        // extensible: the sub-format GUID starts with the format tag
        const ext = decodeAt(text, at, i + 32, 2);
        if (!ext || ext.length < 2 || !FRAME_FORMATS.has(u16le(ext, 0))) return undefined;
      } else if (!FRAME_FORMATS.has(format)) return undefined;
      if (!channels || !rate || frameBytes !== channels * Math.ceil(bits / 8)) return undefined;
    } else if (id === 0x61746164) {
      // "data": declared size, unless unknown (0 or all ones) or past the payload's end
      if (!frameBytes) return undefined;
      const left = Math.max(0, total - (i + 8));
      const bytes = size === 0 || size === 0xffffffff ? left : Math.min(size, left);
      return bytes / (rate * frameBytes);
    }
    i += 8 + size + (size & 1);
  }
  return undefined;
}

/** Bitrate indices 0 (free format) and 15 (invalid) are not read. */
function mp3Seconds(text: string, at: number, head: Uint8Array): number | undefined {
  let i = 0;
  if (head[0] === 0x49 && head[1] === 0x44 && head[2] === 0x33) {
    // "ID3": a tag whose size is four 7-bit bytes, then (perhaps) a footer
    const size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9];
    i = 10 + size + (head[5] & 0x10 ? 10 : 0);
  }
  const frame = decodeAt(text, at, i, 4);
  if (!frame || frame.length < 4) return undefined;
  const sync = frame[0] === 0xff && (frame[1] & 0xe0) === 0xe0;
  const version = (frame[1] >> 3) & 3;
  const layer = (frame[1] >> 1) & 3;
  const bitrate = frame[2] >> 4;
  if (!sync || version === 1 || layer === 0 || bitrate === 0 || bitrate === 15) return undefined;
  return payloadBytes(text, at) / MP3_MIN_BYTES_PER_SECOND;
}
