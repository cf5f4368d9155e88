/**
 * The sessions a gateway has open, so that stopping the server can end them (with 1001, "going
 * away", to both sides) instead of leaving them to the process's exit.
 *
 * @module
 */

/** A session as the board sees it. */
export interface Closable {
  /** Ends the session from the gateway. */
  close(code: number, reason: string, outcome?: "server_stopping"): void;
}

/**
 * A gateway's open sessions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionBoard } from "./board.ts";
 *
 * const board = new SessionBoard();
 * const closed: number[] = [];
 * board.add({ close: (code) => void closed.push(code) });
 * assert.equal(board.size, 1);
 * board.closeAll();
 * assert.deepEqual(closed, [1001]);
 * ```
 */
export class SessionBoard {
  readonly #open = new Set<Closable>();

  /** How many sessions are open. */
  get size(): number {
    return this.#open.size;
  }

  /** Notes a session that opened. */
  add(session: Closable): void {
    this.#open.add(session);
  }

  /** Forgets a session that ended. */
  delete(session: Closable): void {
    this.#open.delete(session);
  }

  /** Ends every open session (1001 by default: the server is going away). */
  closeAll(code = 1001, reason = "server stopping"): void {
    for (const session of [...this.#open]) session.close(code, reason, "server_stopping");
  }
}
