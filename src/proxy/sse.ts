/**
 * Event boundaries in a relayed event stream, so that a stream the upstream breaks off can be
 * ended honestly: the relay hands on whole events only (a client acts on an event when its
 * blank line arrives, so nothing reaches it later than it could be used), drops a half-sent
 * one, ends with an error event of its own in the provider's error shape, and is then cut.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import type { ErrorType } from "../errors.ts";

const LF = 10;
const CR = 13;
const encoder = new TextEncoder();
/**
 * An event longer than this (or a stream without blank lines) is handed on as it comes
 * rather than held: holding is for clean endings, never worth delaying bytes for long.
 */
export const MAX_HELD_BYTES = 64 * 1024;

/**
 * The index just past the last blank line (`\n\n`, `\r\n\r\n` or `\r\r`) in `bytes`, or 0
 * when there is none: `bytes.subarray(0, eventsEnd(bytes))` holds only whole events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventsEnd } from "./sse.ts";
 *
 * const bytes = new TextEncoder().encode("data: 1\n\ndata: 2");
 * assert.equal(eventsEnd(bytes), 9); // "data: 1\n\n" is whole; "data: 2" is not yet
 * ```
 */
export function eventsEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 1; i--) {
    const byte = bytes[i];
    if (byte === LF) {
      const before = bytes[i - 1];
      if (before === LF) return i + 1;
      if (before === CR && i >= 2 && bytes[i - 2] === LF) return i + 1;
    } else if (byte === CR && bytes[i - 1] === CR && i + 1 < bytes.length && bytes[i + 1] !== LF) {
      // "\r\r" not followed by the "\n" of a "\r\n" pair
      return i + 1;
    }
  }
  return 0;
}

/**
 * Cuts a byte stream at event boundaries: `push` returns the whole events ready to go (the
 * chunk itself when it ends on a boundary, the usual case) and holds a partial event back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventFramer } from "./sse.ts";
 *
 * const framer = new EventFramer();
 * const text = (bytes?: Uint8Array) => new TextDecoder().decode(bytes);
 * assert.equal(text(framer.push(new TextEncoder().encode("data: 1\n\ndata: "))), "data: 1\n\n");
 * assert.equal(text(framer.push(new TextEncoder().encode("2\n\n"))), "data: 2\n\n");
 * ```
 */
export class EventFramer {
  #parts: Uint8Array[] = [];
  #held = 0;

  /** What can go now, or undefined when the chunk only extends a held event. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    let end = eventsEnd(chunk);
    if (this.#held === 0) {
      if (end === chunk.length) return chunk;
    } else if (end === 0) {
      // A blank line may straddle the held bytes and this chunk.
      const last = this.#parts[this.#parts.length - 1];
      const tail = last.subarray(Math.max(0, last.length - 3));
      const window = concatBytes([tail, chunk.subarray(0, 3)]);
      const at = eventsEnd(window);
      if (at > tail.length) end = at - tail.length;
    }
    if (end === 0) {
      this.#hold(chunk);
      return this.#held > MAX_HELD_BYTES ? this.end() : undefined;
    }
    this.#parts.push(chunk.subarray(0, end));
    const out = this.end()!;
    if (end < chunk.length) this.#hold(chunk.subarray(end));
    return out;
  }

  /** Whether a partial event is held (the stream stopped mid-event). */
  get partial(): boolean {
    return this.#held > 0;
  }

  /** Everything held, as one array (undefined when nothing is), and forgets it. */
  end(): Uint8Array | undefined {
    if (this.#parts.length === 0) return undefined;
    const parts = this.#parts;
    this.#parts = [];
    this.#held = 0;
    return parts.length === 1 ? parts[0] : concatBytes(parts);
  }

  #hold(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#held += bytes.length;
  }
}

/**
 * Whose error shape the last event of a cut stream takes: keyward's own, or that of the API the
 * route's preset speaks (its SDKs read that one as the provider's error).
 */
export type ErrorShape = "keyward" | "openai" | "anthropic" | "gemini";

/** Why the gateway ends a stream early: the upstream broke it off, or went silent. */
export type CutReason = "broken" | "silent";

const CUTS = {
  broken: {
    message: "The upstream broke off the stream",
    keyward: "bad_gateway",
    openai: "upstream_broken",
    anthropic: "api_error",
    gemini: [503, "UNAVAILABLE"],
  },
  silent: {
    message: "The upstream went silent in the middle of the stream",
    keyward: "gateway_timeout",
    openai: "upstream_silent",
    anthropic: "timeout_error",
    gemini: [504, "DEADLINE_EXCEEDED"],
  },
} as const satisfies Record<CutReason, { keyward: ErrorType } & Record<string, unknown>>;

/**
 * The last event the gateway writes on an event stream it cuts short, in `shape`:
 * - keyward: `event: error` with `{"error":{"type","message"}}`;
 * - openai: `event: error` with `{"error":{"message","type","code"}}` (the `openai` SDK throws
 *   it as an `APIError`);
 * - anthropic: `event: error` with `{"type":"error","error":{"type","message"}}`, as Anthropic
 *   sends it;
 * - gemini: Gemini's error object `{"error":{"code","message","status"}}` on a `data:` line, as
 *   Gemini sends it: `@google/genai` reads only events that begin with `data:` and throws this
 *   one as an `ApiError`.
 *
 * The stream is then cut without its last chunk, so that a reader that ignores events sees a
 * network error rather than a clean end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cutEvent } from "./sse.ts";
 *
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assert.equal(
 *   text(cutEvent("keyward", "broken")),
 *   'event: error\ndata: {"error":{"type":"bad_gateway","message":"The upstream broke off the stream"}}\n\n',
 * );
 * assert.equal(
 *   text(cutEvent("anthropic", "broken")),
 *   'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The upstream broke off the stream"}}\n\n',
 * );
 * ```
 */
export function cutEvent(shape: ErrorShape, reason: CutReason): Uint8Array {
  const cut = CUTS[reason];
  const message = cut.message;
  switch (shape) {
    case "openai": {
      const error = { message, type: "server_error", code: cut.openai };
      return encoder.encode(`event: error\ndata: ${JSON.stringify({ error })}\n\n`);
    }
    case "anthropic": {
      const error = { type: "error", error: { type: cut.anthropic, message } };
      return encoder.encode(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
    }
    case "gemini": {
      const [code, status] = cut.gemini;
      return encoder.encode(`data: ${JSON.stringify({ error: { code, message, status } })}\n\n`);
    }
    default: {
      const error = { type: cut.keyward, message };
      return encoder.encode(`event: error\ndata: ${JSON.stringify({ error })}\n\n`);
    }
  }
}
