/**
 * The client's side of a session: how the runtime the gateway runs on accepts a WebSocket
 * handshake, and the link the session talks to the client through.
 *
 * - Deno: `Deno.upgradeWebSocket` inside the `fetch` handler (`gateway.fetch` under
 *   `Deno.serve`, the standalone server, Hono on Deno).
 * - Bun: the server's `upgrade()`, reached as the second argument of Bun's `fetch`; the
 *   gateway's `websocket` handlers must be the server's (see `bun.ts`).
 * - Node: the server's `upgrade` event handed to the gateway (see `node.ts`).
 *
 * Where none of these is at hand (an edge runtime, a framework that hides the server), the
 * gateway answers an upgrade with 503 before anything is opened.
 *
 * @module
 */
import type { HeaderRecord } from "../proxy/headers.ts";
import { platform } from "../platform/mod.ts";
import { PendingEvents, type SocketEvents } from "./socket_events.ts";

/** What a session hears from its client. */
export type ClientEvents = SocketEvents;

/** The session's way to the client. */
export interface ClientLink {
  /** Sends a frame: a string as text, bytes as binary. */
  send(data: string | Uint8Array): void;
  /** Closes the socket with `code` and `reason`. */
  close(code: number, reason: string): void;
  /** Bytes queued towards the client and not yet written. */
  buffered(): number;
  /** Hands the client's events to `events`. */
  attach(events: ClientEvents): void;
}

/** A handshake accepted: the answer to give the server, and the link to the client. */
export interface Accepted {
  /** What the `fetch` handler returns (the `101` on Deno; a stand-in where the server answers). */
  response: Response;
  /** The link to the client. */
  link: ClientLink;
}

/** Accepts WebSocket handshakes on one runtime. */
export interface Acceptor {
  /**
   * Accepts `request`, naming `protocol` (none when empty) and adding `headers` to the `101`.
   * Throws when the runtime refuses the handshake.
   */
  accept(request: Request, protocol: string, headers: HeaderRecord): Accepted;
}

/** Something `fetch`'s second argument may carry that accepts handshakes (Bun, Node). */
export interface AcceptorSource {
  /** The acceptor for the request it came with. */
  readonly [ACCEPTOR]: Acceptor;
}

/** Where an environment object (`fetch`'s second argument) carries its acceptor. */
export const ACCEPTOR: unique symbol = Symbol.for("keyward.acceptor");

const OPEN = 1;

/** What a {@linkcode PendingLink} needs of the client's socket once it is open. */
export interface OpenSocket {
  /** Sends a frame. */
  send(data: string | Uint8Array): void;
  /** Closes the socket. */
  close(code: number, reason: string): void;
  /** Bytes the socket has queued and not yet written. */
  buffered(): number;
}

/**
 * A link to a client whose socket opens after the handshake is accepted (Deno opens it once
 * the `101` is sent, Bun and Node once their servers have answered): frames sent before then
 * wait in a queue, counted as buffered; a close waits too, and frames sent after it are
 * dropped. Events wait until the session attaches; the runtime feeds them to `events`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingLink } from "./accept.ts";
 *
 * const link = new PendingLink();
 * link.send("early"); // queued until the socket opens
 * assert.equal(link.buffered(), 5);
 * const sent: unknown[] = [];
 * link.open({ send: (data) => void sent.push(data), close: () => {}, buffered: () => 0 });
 * link.send("late");
 * assert.deepEqual(sent, ["early", "late"]);
 * ```
 */
export class PendingLink implements ClientLink {
  /** Where the runtime hands the client's events. */
  readonly events: PendingEvents = new PendingEvents();
  #socket?: OpenSocket;
  #queue: (string | Uint8Array)[] = [];
  #queued = 0;
  #closing?: { code: number; reason: string };

  /** Sends a frame, or queues it until the socket opens. */
  send(data: string | Uint8Array): void {
    if (this.#socket) this.#socket.send(data);
    else if (!this.#closing) {
      this.#queue.push(data);
      this.#queued += typeof data === "string" ? data.length : data.byteLength;
    }
  }

  /** Closes the socket, or once it opens. */
  close(code: number, reason: string): void {
    if (this.#socket) this.#socket.close(code, reason);
    else this.#closing ??= { code, reason };
  }

  /** Bytes queued here and in the socket. */
  buffered(): number {
    return (this.#socket?.buffered() ?? 0) + this.#queued;
  }

  /** Hands the client's events to `events`. */
  attach(events: ClientEvents): void {
    this.events.attach(events);
  }

  /** The socket is open: what waited goes now. */
  open(socket: OpenSocket): void {
    this.#socket = socket;
    for (const data of this.#queue) socket.send(data);
    this.#queue = [];
    this.#queued = 0;
    if (this.#closing) socket.close(this.#closing.code, this.#closing.reason);
  }
}

/**
 * A link over a WHATWG `WebSocket` on the server side (Deno's): frames sent before the socket
 * is open wait in a queue, counted as buffered; frames sent once it is closing are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { whatwgLink } from "./accept.ts";
 *
 * // a server echoing through a link
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   const link = whatwgLink(socket);
 *   link.send("hello"); // queued until the socket opens
 *   link.attach({ message: (data) => link.send(data), closed: () => {} });
 *   return response;
 * });
 * const client = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
 * const first = await new Promise((resolve) => client.onmessage = (e) => resolve(e.data));
 * assert.equal(first, "hello");
 * client.close();
 * await new Promise((resolve) => client.onclose = resolve);
 * await server.shutdown();
 * ```
 */
export function whatwgLink(socket: WebSocket): ClientLink {
  socket.binaryType = "arraybuffer";
  const link = new PendingLink();
  socket.onopen = () =>
    link.open({
      send: (data) => {
        if (socket.readyState === OPEN) socket.send(data);
      },
      close: (code, reason) => {
        if (socket.readyState === OPEN) socket.close(code, reason);
      },
      buffered: () => socket.bufferedAmount,
    });
  socket.onmessage = (event) => {
    const data = event.data;
    link.events.message(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  };
  // Deno may report a close twice (a clean one, then a broken pipe): the session ends once.
  socket.onclose = (event) => link.events.closed(event.code, event.reason);
  socket.onerror = () => {};
  return link;
}

/** Deno's acceptor: `Deno.upgradeWebSocket`, the subprotocol set on the `101` itself. */
function platformAcceptor(
  upgrade: (request: Request) => { socket: WebSocket; response: Response },
): Acceptor {
  return {
    accept(request, protocol, headers) {
      const { socket, response } = upgrade(request);
      // The 101's headers are sent as they are when the handler returns it.
      if (protocol) response.headers.set("sec-websocket-protocol", protocol);
      for (const name in headers) response.headers.set(name, headers[name]);
      return { response, link: whatwgLink(socket) };
    },
  };
}

const native = platform.upgradeWebSocket ? platformAcceptor(platform.upgradeWebSocket) : undefined;

/**
 * The acceptor for a request that came with `env` (`fetch`'s second argument): one the server
 * passed along (Bun, Node), else the runtime's own (Deno), else undefined.
 *
 * @example
 * ```ts
 * import { acceptorFor } from "./accept.ts";
 *
 * // under Deno, a fetch handler can always accept a handshake itself
 * if (acceptorFor(undefined) === undefined) throw new Error("Deno accepts upgrades");
 * ```
 */
export function acceptorFor(env: unknown): Acceptor | undefined {
  if (env !== null && typeof env === "object" && ACCEPTOR in env) {
    return (env as AcceptorSource)[ACCEPTOR];
  }
  return native;
}
