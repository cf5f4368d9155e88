/**
 * What a session hears from one side of a socket, and a holder that keeps those events until
 * the session attaches (frames can arrive before it does: in the same read as the `101`, or
 * while the other side is still opening).
 *
 * @module
 */

/** What a session hears from one socket, the client's or the upstream's. */
export interface SocketEvents {
  /** A frame: text as a string, binary as bytes. */
  message(data: string | Uint8Array): void;
  /** The socket closed (1005 without a code, 1006 when it broke off without a close frame). */
  closed(code: number, reason: string): void;
}

/**
 * Keeps a socket's events (and frames) until the session attaches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingEvents } from "./socket_events.ts";
 *
 * const pending = new PendingEvents();
 * pending.message("early"); // before anyone listens
 * const heard: unknown[] = [];
 * pending.attach({ message: (data) => void heard.push(data), closed: () => {} });
 * pending.message("late");
 * assert.deepEqual(heard, ["early", "late"]);
 * ```
 */
export class PendingEvents implements SocketEvents {
  #events?: SocketEvents;
  #kept: (string | Uint8Array | { code: number; reason: string })[] = [];

  /** A frame from the socket. */
  message(data: string | Uint8Array): void {
    if (this.#events) this.#events.message(data);
    else this.#kept.push(data);
  }

  /** The socket closed. */
  closed(code: number, reason: string): void {
    if (this.#events) this.#events.closed(code, reason);
    else this.#kept.push({ code, reason });
  }

  /** From now on events go to `events`; those kept go first. */
  attach(events: SocketEvents): void {
    const kept = this.#kept;
    this.#kept = [];
    this.#events = events;
    for (const item of kept) {
      if (typeof item === "string" || item instanceof Uint8Array) events.message(item);
      else events.closed(item.code, item.reason);
    }
  }
}
