/**
 * The client connections the standalone server holds, and when to let go of them. A
 * connection with no request in flight has a deadline: the header timeout from when it was
 * accepted (for its first request head), then the idle timeout from the end of each response
 * (keep-alive). One timer sweeps them all; nothing is timed per request. When the process runs
 * out of file descriptors, the quietest connections are shed first.
 *
 * @module
 */

/** What a connection needs from the HTTP server serving it. */
export interface ServedConnection {
  /** Stops reading new requests, lets the current one finish, then closes. */
  shutdown(): Promise<void>;
}

/** One accepted client connection. */
export class ClientConnection {
  /** Aborting it closes the connection at once (the HTTP server listens to its signal). */
  readonly controller: AbortController = new AbortController();
  /** Requests being served on it now. */
  active = 0;
  /** Requests whose responses ended. */
  served = 0;
  /** `performance.now()` past which the connection is closed while no request is in flight. */
  deadline: number;
  /** The HTTP server on this connection, once it runs. */
  server?: ServedConnection;
  readonly #idleMs: number;

  constructor(now: number, headerMs: number, idleMs: number) {
    this.deadline = now + headerMs;
    this.#idleMs = idleMs;
  }

  /** A request arrived (its head was read). */
  begin(): void {
    this.active++;
  }

  /** A response was delivered or abandoned: from now on the idle timeout runs. Bound once. */
  readonly end = (): void => {
    this.active--;
    this.served++;
    if (this.active === 0) this.deadline = performance.now() + this.#idleMs;
  };

  /** Closes the connection now. */
  close(): void {
    this.controller.abort();
  }
}

/** Timeouts of {@linkcode ConnectionSet}, in milliseconds. */
export interface ConnectionTimeouts {
  /** Time a new connection has to send its first request head. */
  header: number;
  /** Time a kept-alive connection may wait for its next request. */
  idle: number;
}

/**
 * Every open client connection, swept for quiet ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionSet } from "./connections.ts";
 *
 * const connections = new ConnectionSet({ header: 60_000, idle: 75_000 });
 * const client = connections.open(); // serve it with client.controller.signal
 * client.begin(); // a request head was read
 * client.end(); // its response ended: the idle timeout runs from now
 *
 * assert.equal(connections.sweep(performance.now() + 75_001), 1); // quiet past its deadline
 * assert.ok(client.controller.signal.aborted); // closed
 * connections.remove(client); // once it has closed
 * connections.stop();
 * ```
 */
export class ConnectionSet {
  // A Set keeps insertion order: iteration goes from the oldest connection to the newest.
  readonly #open = new Set<ClientConnection>();
  #timeouts!: ConnectionTimeouts;
  #timer?: ReturnType<typeof setInterval>;

  constructor(timeouts: ConnectionTimeouts) {
    this.setTimeouts(timeouts);
  }

  /** Changes the timeouts (a reload): connections accepted from now on get the new ones. */
  setTimeouts(timeouts: ConnectionTimeouts): void {
    this.#timeouts = { header: timeouts.header, idle: timeouts.idle };
    clearInterval(this.#timer);
    // A quarter of the shortest timeout, within [100 ms, 1 s]: a quiet connection lives at most
    // that much past its deadline.
    const period = Math.min(1000, Math.max(100, Math.min(timeouts.header, timeouts.idle) / 4));
    this.#timer = setInterval(() => this.sweep(performance.now()), period);
    Deno.unrefTimer(this.#timer);
  }

  /** How many connections are open. */
  get size(): number {
    return this.#open.size;
  }

  /** Registers a newly accepted connection. */
  open(): ClientConnection {
    const client = new ClientConnection(
      performance.now(),
      this.#timeouts.header,
      this.#timeouts.idle,
    );
    this.#open.add(client);
    return client;
  }

  /** Forgets a connection that has closed. */
  remove(client: ClientConnection): void {
    this.#open.delete(client);
  }

  /** Closes every connection that is quiet past its deadline; returns how many. */
  sweep(now: number): number {
    let closed = 0;
    for (const client of this.#open) {
      if (client.active === 0 && client.deadline <= now && !client.controller.signal.aborted) {
        client.close();
        closed++;
      }
    }
    return closed;
  }

  /**
   * Closes up to `count` connections with no request in flight, to free descriptors: first
   * those that never completed a request (the oldest first), then idle kept-alive ones.
   */
  shed(count: number): number {
    let shed = 0;
    for (const neverServed of [true, false]) {
      for (const client of this.#open) {
        if (shed >= count) return shed;
        if (client.active !== 0 || client.controller.signal.aborted) continue;
        if (neverServed !== (client.served === 0)) continue;
        client.close();
        shed++;
      }
    }
    return shed;
  }

  /** Shuts every connection down gracefully; resolves when they have all finished. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#open].map((client) => client.server?.shutdown()));
  }

  /** Stops the sweep timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
