/**
 * Keeps the key a request was sent with out of what the upstream answers: in header values
 * and, streamed, in bodies. A body is scanned chunk by chunk without being held: only the
 * shortest tail that could be the start of the key (a key split over two chunks) waits for
 * the next chunk.
 *
 * Besides the key as sent, its percent-encoded and JSON-escaped spellings are looked for when
 * they differ (an upstream echoing a URL or a JSON string of it).
 *
 * @module
 */
import { concatBytes, indexOfBytes } from "../bytes.ts";

/** What stands where a key was. */
export const REDACTED = "[redacted]";

const encoder = new TextEncoder();
const REDACTED_BYTES = encoder.encode(REDACTED);

/** The spellings of one key to look for, as text and as bytes. */
export interface Needles {
  /** Each spelling as a string (for header values). */
  readonly text: readonly string[];
  /** Each spelling as UTF-8 bytes (for bodies). */
  readonly bytes: readonly Uint8Array[];
}

/** A key that gives its value only when asked (keyward's `Secret`). */
export interface Revealable {
  /** The key itself. */
  reveal(): string;
}

const cache = new WeakMap<Revealable, Needles>();

/**
 * The spellings of `secret` to redact, worked out once per key (keys read at load are reused
 * for every request; a hook's per-request key costs one computation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Secret } from "../keys/secret.ts";
 * import { needlesOf } from "./redact.ts";
 *
 * assert.deepEqual(needlesOf(new Secret("sk-a/b")).text, ["sk-a/b", "sk-a%2Fb", "sk-a\\/b"]);
 * ```
 */
export function needlesOf(secret: Revealable): Needles {
  let needles = cache.get(secret);
  if (needles) return needles;
  const raw = secret.reveal();
  const text = [raw];
  for (const form of [encodeURIComponent(raw), JSON.stringify(raw).slice(1, -1)]) {
    if (!text.includes(form)) text.push(form);
  }
  // A JSON encoder may also escape "/" (PHP, some Java encoders).
  if (raw.includes("/")) {
    const slashed = raw.replaceAll("/", "\\/");
    if (!text.includes(slashed)) text.push(slashed);
  }
  // Empty spellings would match everywhere; a route never has an empty key, but be sure.
  const kept = text.filter((form) => form.length > 0);
  needles = { text: kept, bytes: kept.map((form) => encoder.encode(form)) };
  cache.set(secret, needles);
  return needles;
}

/**
 * `value` with every spelling of the key replaced, or `value` itself (the usual case: one
 * `includes` per spelling, and keys have one spelling unless they hold `/`, `+` or the like).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Secret } from "../keys/secret.ts";
 * import { needlesOf, redactText } from "./redact.ts";
 *
 * assert.equal(redactText("Bearer sk-1", needlesOf(new Secret("sk-1"))), "Bearer [redacted]");
 * ```
 */
export function redactText(value: string, needles: Needles): string {
  for (const needle of needles.text) {
    if (value.includes(needle)) value = value.replaceAll(needle, REDACTED);
  }
  return value;
}

/** The earliest match of any needle at or after `from` (the longest one at a tie). */
function earliest(
  data: Uint8Array,
  needles: readonly Uint8Array[],
  from: number,
): [number, number] | undefined {
  let best: [number, number] | undefined;
  for (const needle of needles) {
    const at = indexOfBytes(data, needle, from);
    if (at === -1) continue;
    if (!best || at < best[0] || (at === best[0] && needle.length > best[1])) {
      best = [at, needle.length];
    }
  }
  return best;
}

/**
 * Replaces every needle in `data`; returns `data` itself when none occurs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Secret } from "../keys/secret.ts";
 * import { needlesOf, redactBytes } from "./redact.ts";
 *
 * const needles = needlesOf(new Secret("sk-1"));
 * const redacted = redactBytes(new TextEncoder().encode("k=sk-1"), needles);
 * assert.equal(new TextDecoder().decode(redacted), "k=[redacted]");
 * ```
 */
export function redactBytes<B extends ArrayBufferLike>(
  data: Uint8Array<B>,
  needles: Needles,
): Uint8Array<B> | Uint8Array<ArrayBuffer> {
  let match = earliest(data, needles.bytes, 0);
  if (!match) return data;
  const parts: Uint8Array[] = [];
  let from = 0;
  while (match) {
    const [at, length] = match;
    parts.push(data.subarray(from, at), REDACTED_BYTES);
    from = at + length;
    match = earliest(data, needles.bytes, from);
  }
  parts.push(data.subarray(from));
  return concatBytes(parts);
}

/** The length of the longest tail of `data` that is the start of some needle (not all of it). */
function pendingTail(data: Uint8Array, needles: readonly Uint8Array[]): number {
  let longest = 0;
  for (const needle of needles) {
    const most = Math.min(needle.length - 1, data.length);
    for (let k = most; k > longest; k--) {
      const start = data.length - k;
      if (data[start] !== needle[0]) continue;
      let i = 1;
      while (i < k && data[start + i] === needle[i]) i++;
      if (i === k) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}

/**
 * Redacts a body as it streams: `push` each chunk and send what it returns, then send what
 * `end` returns. A key split over chunks is caught; what is held back between chunks is never
 * more than the key's length, and only when the chunk ends like the start of a key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Secret } from "../keys/secret.ts";
 * import { needlesOf, StreamRedactor } from "./redact.ts";
 *
 * const redactor = new StreamRedactor(needlesOf(new Secret("sk-123")));
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assert.equal(text(redactor.push(new TextEncoder().encode("key=sk-1"))), "key="); // "sk-1" waits
 * assert.equal(text(redactor.push(new TextEncoder().encode("23&x"))), "[redacted]&x");
 * assert.equal(redactor.end(), undefined); // nothing held back at the end
 * ```
 */
export class StreamRedactor {
  readonly #needles: Needles;
  #held: Uint8Array | undefined;

  constructor(needles: Needles) {
    this.#needles = needles;
  }

  /** The redacted bytes of `chunk` that can go now (possibly empty). */
  push(chunk: Uint8Array): Uint8Array {
    let data = chunk;
    if (this.#held) {
      data = concatBytes([this.#held, chunk]);
      this.#held = undefined;
    }
    // Redact whole matches first, then hold back a tail that could begin one.
    const bytes = this.#needles.bytes;
    const match = earliest(data, bytes, 0);
    let out = match ? redactBytes(data, this.#needles) : data;
    const tail = pendingTail(out, bytes);
    if (tail > 0) {
      this.#held = out.slice(out.length - tail);
      out = out.subarray(0, out.length - tail);
    }
    return out;
  }

  /** What was held back, at the end of the body (it was not a key). */
  end(): Uint8Array | undefined {
    const held = this.#held;
    this.#held = undefined;
    return held;
  }
}
