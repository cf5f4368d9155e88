/**
 * Sessions on Bun. Bun upgrades at its server: `fetch(request, server)` calls
 * `server.upgrade()`, and the server has one set of `websocket` handlers for every socket it
 * upgraded. So the gateway's `fetch` recognises Bun's server as its second argument, and the
 * gateway exports the handlers its sockets need:
 *
 * ```ts
 * import { createGateway } from "../../mod.ts";
 *
 * type Serve = (options: Record<string, unknown>) => unknown;
 * const Bun = (globalThis as { Bun?: { serve: Serve } }).Bun; // Bun's global, on Bun
 * const gateway = await createGateway("routes.yaml");
 * if (Bun) {
 *   Bun.serve({ fetch: gateway.fetch, websocket: gateway.websocket });
 *   // beside an app's own sockets (told apart by their data), keep the app's handlers too:
 *   // Bun.serve({ fetch: appFetch, websocket: gateway.websocket.with(appHandlers) });
 * }
 * ```
 *
 * Without a subprotocol of its own to name, Bun would echo the client's first one (which may
 * be its token): the gateway always names one, or an empty one for none.
 *
 * @module
 */
import type { ConnInfo } from "../auth/client_ip.ts";
import { ACCEPTOR, type Acceptor, PendingLink } from "./accept.ts";

/** The part of Bun's `Server` a session needs. */
export interface BunServerLike {
  /** Upgrades `request`; false when it is not a WebSocket handshake. */
  upgrade(request: Request, options?: { data?: unknown; headers?: HeadersInit }): boolean;
  /** The client's address. */
  requestIP?(request: Request): { address: string; port: number } | null;
}

/** The part of Bun's `ServerWebSocket` a session needs. */
export interface BunSocketLike {
  /** What the upgrade attached. */
  data: unknown;
  /** Sends a frame: a string as text, bytes as binary. */
  send(data: string | Uint8Array): number;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet written. */
  getBufferedAmount(): number;
}

/** Bun's `websocket` handlers (the ones Bun calls). */
export interface BunHandlers {
  /** A socket opened. */
  open?(ws: BunSocketLike): void;
  /** A frame came. */
  message?(ws: BunSocketLike, message: string | Uint8Array): void;
  /** A socket closed. */
  close?(ws: BunSocketLike, code: number, reason: string): void;
  /** A socket's queue emptied. */
  drain?(ws: BunSocketLike): void;
}

/** The gateway's `websocket` handlers for `Bun.serve`, and how to join them with an app's. */
export interface BunWebSocket extends BunHandlers {
  /** The largest frame Bun reads (larger ones close with 1009 before the gateway sees them). */
  readonly maxPayloadLength: number;
  /** Frames are relayed as they come, uncompressed. */
  readonly perMessageDeflate: false;
  /** The gateway's handlers for its own sockets, `app`'s for every other one. */
  with(app: BunHandlers & Record<string, unknown>): BunHandlers & Record<string, unknown>;
}

/** Where a gateway socket's state sits in `ws.data`. */
const DATA = Symbol.for("keyward.socket");

const linkOf = (ws: BunSocketLike): PendingLink | undefined =>
  (ws.data as Record<symbol, PendingLink> | undefined)?.[DATA];

const acceptors = new WeakMap<BunServerLike, Acceptor>();

/** The acceptor of Bun's `server`, made once per server (every request of it is given one). */
function acceptorOf(server: BunServerLike): Acceptor {
  let acceptor = acceptors.get(server);
  if (!acceptor) acceptors.set(server, acceptor = bunAcceptor(server));
  return acceptor;
}

/** The acceptor for requests that came through Bun's `server`. */
function bunAcceptor(server: BunServerLike): Acceptor {
  return {
    accept(request, protocol, headers) {
      const link = new PendingLink();
      const upgraded = server.upgrade(request, {
        data: { [DATA]: link },
        // Always named: without it Bun echoes the client's first offer (maybe its token).
        headers: { ...headers, "sec-websocket-protocol": protocol },
      });
      if (!upgraded) throw new Error("Bun did not upgrade the request");
      // Bun ignores what fetch returns once it upgraded.
      return { response: new Response(null), link };
    },
  };
}

/**
 * Whether `info` (what Bun passes `fetch` second) is Bun's server.
 *
 * @example
 * ```ts
 * import { isBunServer } from "./bun.ts";
 *
 * if (isBunServer(undefined)) throw new Error("not Bun");
 * if (!isBunServer({ upgrade: () => true, requestIP: () => null })) throw new Error("Bun");
 * ```
 */
export function isBunServer(info: unknown): info is BunServerLike {
  return info !== null && typeof info === "object" &&
    typeof (info as BunServerLike).upgrade === "function" &&
    typeof (info as BunServerLike).requestIP === "function";
}

/**
 * What the gateway passes its stages for a request Bun served: the client's address, and
 * how to accept its WebSocket handshake.
 *
 * @example
 * ```ts
 * import { bunEnv } from "./bun.ts";
 *
 * const server = { upgrade: () => false, requestIP: () => ({ address: "10.0.0.7", port: 5 }) };
 * const env = bunEnv(server, new Request("http://localhost/"));
 * if (env.remoteAddr.hostname !== "10.0.0.7") throw new Error("address lost");
 * ```
 */
export function bunEnv(
  server: BunServerLike,
  request: Request,
): ConnInfo & { remoteAddr: { hostname?: string }; [ACCEPTOR]: Acceptor } {
  return {
    remoteAddr: { hostname: server.requestIP?.(request)?.address },
    [ACCEPTOR]: acceptorOf(server),
  };
}

const own: Required<BunHandlers> = {
  open(ws) {
    linkOf(ws)?.open({
      send: (data) => void ws.send(data),
      close: (code, reason) => ws.close(code, reason),
      buffered: () => ws.getBufferedAmount(),
    });
  },
  message(ws, message) {
    linkOf(ws)?.events.message(typeof message === "string" ? message : new Uint8Array(message));
  },
  close(ws, code, reason) {
    linkOf(ws)?.events.closed(code, reason);
  },
  drain() {},
};

/**
 * The `websocket` handlers the gateway's sockets need in `Bun.serve`.
 *
 * @example
 * ```ts
 * import { bunWebSocket } from "./bun.ts";
 *
 * // an app with sockets of its own keeps its handlers for them
 * const handlers = bunWebSocket.with({ message: (ws, message) => ws.send(message) });
 * if (typeof handlers.message !== "function") throw new Error("no handler");
 * ```
 */
export const bunWebSocket: BunWebSocket = {
  ...own,
  maxPayloadLength: 64 * 1024 * 1024,
  perMessageDeflate: false,
  with(app) {
    const pick =
      <K extends keyof BunHandlers>(name: K) => (ws: BunSocketLike, ...rest: unknown[]) => {
        const handler = linkOf(ws) ? own[name] : app[name];
        (handler as ((ws: BunSocketLike, ...rest: unknown[]) => void) | undefined)?.(ws, ...rest);
      };
    return {
      maxPayloadLength: bunWebSocket.maxPayloadLength,
      perMessageDeflate: false,
      ...app,
      open: pick("open"),
      message: pick("message"),
      close: pick("close"),
      drain: pick("drain"),
    };
  },
};
