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

const CONNECTING = 0;
const OPEN = 1;

/**
 * A link over a WHATWG `WebSocket` on the server side (Deno's): frames sent before the socket
 * is open wait in a queue, counted as buffered.
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
  const events = new PendingEvents();
  let queue: (string | Uint8Array)[] = [];
  let queued = 0;
  let closing: { code: number; reason: string } | undefined;
  socket.onopen = () => {
    for (const data of queue) socket.send(data);
    queue = [];
    queued = 0;
    if (closing) socket.close(closing.code, closing.reason);
  };
  socket.onmessage = (event) => {
    const data = event.data;
    events.message(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  };
  // Deno may report a close twice (a clean one, then a broken pipe): the session ends once.
  socket.onclose = (event) => events.closed(event.code, event.reason);
  socket.onerror = () => {};
  return {
    send(data) {
      const state = socket.readyState;
      if (state === OPEN) socket.send(data);
      else if (state === CONNECTING && !closing) {
        queue.push(data);
        queued += typeof data === "string" ? data.length : data.byteLength;
      }
    },
    close(code, reason) {
      if (socket.readyState === CONNECTING) closing ??= { code, reason };
      else if (socket.readyState === OPEN) socket.close(code, reason);
    },
    buffered: () => socket.bufferedAmount + queued,
    attach: (next) => events.attach(next),
  };
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
