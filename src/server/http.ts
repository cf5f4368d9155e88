/**
 * The standalone server's HTTP listener. `Deno.serve` accepts connections natively and has
 * neither request-head nor keep-alive timeouts, and it stops for good when an accept fails
 * for lack of file descriptors. So connections are accepted here, with `Deno.listen`, and each
 * is handed to the runtime's HTTP server for that one connection (`serveHttpOnConnection`,
 * what `Deno.serve` itself runs on): requests are still parsed and answered natively, while
 * this side knows every connection, closes the quiet ones ({@linkcode ConnectionSet}) and
 * keeps accepting after `EMFILE`, shedding quiet connections to make room.
 *
 * `serveHttpOnConnection` is internal to Deno (`Deno[Deno.internal]`). Where it is missing the
 * server falls back to plain `Deno.serve`, without those protections, and says so in one line.
 *
 * WebSockets: the per-connection server of Deno 2.9 closes a socket it upgraded as soon as it
 * opens (see `upgrade_check.ts`). A config with WebSocket routes is therefore served with plain
 * `Deno.serve` where that check fails (`plain`), and the line the server logs says which
 * protections that costs. Plain `Deno.serve` stops accepting for good when an accept fails
 * (no file descriptors left); here its loop is started again on the same address, so the
 * server recovers once descriptors are free.
 *
 * @module
 */
import { logEvent } from "../observe/log.ts";
import { ConnectionSet, type ConnectionTimeouts } from "./connections.ts";

/** Options for {@linkcode serveHttp}. */
export interface HttpOptions {
  /** Port (0 picks a free one). */
  port: number;
  /** Address to listen on. */
  hostname: string;
  /** Share the port with other processes (`SO_REUSEPORT`). */
  reusePort?: boolean;
  /** Header and idle timeouts, in milliseconds. */
  timeouts: ConnectionTimeouts;
  /**
   * Why to serve with plain `Deno.serve` (a config whose WebSocket routes the protected
   * listener would drop); undefined for the protected listener.
   */
  plain?: string;
}

/** A running HTTP listener. */
export interface HttpServer {
  /** The address it listens on. */
  addr: Deno.NetAddr;
  /** Stops accepting, lets requests in flight finish, and resolves when every connection closed. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Changes the timeouts for connections accepted from now on (a reload). */
  setTimeouts(timeouts: ConnectionTimeouts): void;
  /** Whether the listener keeps upgraded WebSockets open (plain `Deno.serve` does). */
  upgrades: boolean;
}

type ServeOnConnection = (
  connection: Deno.Conn,
  signal: AbortSignal,
  handler: Deno.ServeHandler,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => Deno.HttpServer;

/** Longest pause between accepts while descriptors are exhausted and nothing can be shed. */
const MAX_BACKOFF_MS = 1000;
/** Connections shed at each failed accept: a tenth of them, at least this many. */
const MIN_SHED = 8;
/** Exhaustion is over once accepts have succeeded for this long without a failure. */
const RECOVERED_MS = 1000;
/**
 * Descriptors kept free for upstream connections and files once the limit is known: an
 * eighth of the connections held when accepting first failed, at least this many.
 */
const MIN_HEADROOM = 16;

function serveOnConnection(): ServeOnConnection | undefined {
  let fn: unknown;
  try {
    // deno-lint-ignore no-explicit-any
    fn = (Deno as any)[(Deno as any).internal]?.serveHttpOnConnection;
  } catch {
    return undefined; // a host that fences off Deno's internals
  }
  // (connection, signal, handler, onError, onListen) in Deno 2.9; another shape is not ours.
  return typeof fn === "function" && fn.length === 5 ? fn as ServeOnConnection : undefined;
}

/** True for `EMFILE` (process limit) and `ENFILE` (system limit). */
function outOfDescriptors(error: unknown): boolean {
  const message = String((error as Error)?.message ?? "");
  const code = (error as { code?: string })?.code;
  return code === "EMFILE" || code === "ENFILE" || /os error 2[34]\b/.test(message);
}

function onError(error: unknown): Response {
  // A body the gateway cut on purpose (a stream the upstream broke off): no failure of ours.
  const name = (error as Error)?.name ?? "Error";
  if (name !== "StreamCut") logEvent("handler_failed", { error: name });
  return new Response("Internal Server Error", { status: 500 });
}

/**
 * Listens and serves `handler`, closing quiet connections and riding out descriptor
 * exhaustion.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "./http.ts";
 *
 * const server = serveHttp(
 *   { port: 0, hostname: "127.0.0.1", timeouts: { header: 60_000, idle: 75_000 } },
 *   () => new Response("ok"),
 * );
 * const answer = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(await answer.text(), "ok");
 * await server.shutdown(); // requests in flight finish first
 * ```
 */
export function serveHttp(options: HttpOptions, handler: Deno.ServeHandler): HttpServer {
  const serveOn = options.plain ? undefined : serveOnConnection();
  if (!serveOn) {
    logEvent("server_timeouts_unavailable", {
      reason: options.plain ??
        "this Deno has no serveHttpOnConnection; serving with Deno.serve, without " +
          "header or idle timeouts, and it stops if file descriptors run out",
    });
    return fallback(options, handler);
  }

  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    reusePort: options.reusePort,
    transport: "tcp",
  });
  const connections = new ConnectionSet(options.timeouts);

  const serveConnection = (conn: Deno.TcpConn) => {
    const client = connections.open();
    try {
      conn.setNoDelay(true);
    } catch {
      // the peer is already gone; the server notices at its first read
    }
    const server = serveOn(
      conn,
      client.controller.signal,
      (request, info) => {
        client.begin();
        info.completed.then(client.end, client.end);
        return handler(request, info);
      },
      onError,
      () => {},
    );
    client.server = server;
    const forget = () => connections.remove(client);
    server.finished.then(forget, forget);
  };

  const accepting = acceptLoop(listener, serveConnection, connections);
  const finished = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      try {
        listener.close();
      } catch {
        // closed already
      }
      await accepting;
      await connections.shutdown();
      connections.stop();
      finished.resolve();
    })();
  return {
    addr: listener.addr,
    shutdown,
    finished: finished.promise,
    setTimeouts: (timeouts) => connections.setTimeouts(timeouts),
    upgrades: false,
  };
}

/**
 * Accepts until the listener is closed; never gives up on `EMFILE`. The first time accepting
 * fails for lack of descriptors, the connections held then, less some headroom, become the
 * most it keeps: past that, each new connection takes the place of a quiet one, or is closed
 * at once when every connection has a request in flight. So descriptors stay free for the
 * upstream connections the requests in flight need.
 */
async function acceptLoop(
  listener: Deno.TcpListener,
  serve: (conn: Deno.TcpConn) => void,
  connections: ConnectionSet,
): Promise<void> {
  let backoff = 0;
  // One episode of exhaustion, logged once: from the first failed accept until accepts have
  // succeeded for a while (shedding lets some through in between).
  let failed = 0;
  let shed = 0;
  let since = 0;
  let lastFailure = 0;
  let refused = 0;
  let ceiling = Infinity;
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (
        error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted
      ) {
        return; // the listener was closed
      }
      const exhausted = outOfDescriptors(error);
      const held = connections.size;
      if (exhausted) {
        const keep = held - Math.max(MIN_HEADROOM, Math.ceil(held / 8));
        if (keep >= MIN_HEADROOM) ceiling = Math.min(ceiling, keep);
      }
      // Quiet connections make room for a client that has something to say.
      const freed = exhausted ? connections.shed(Math.max(MIN_SHED, Math.ceil(held / 10))) : 0;
      if (failed === 0) {
        since = performance.now();
        logEvent(exhausted ? "descriptors_exhausted" : "accept_failed", {
          error: (error as Error)?.message ?? String(error),
          connections: held,
          shed: freed,
          ...(ceiling < Infinity ? { max_connections: ceiling } : {}),
        });
      }
      failed++;
      shed += freed;
      lastFailure = performance.now();
      // Closing takes a moment to give descriptors back; wait longer while nothing frees up.
      backoff = freed > 0 ? 10 : Math.min(MAX_BACKOFF_MS, Math.max(10, backoff * 2));
      await new Promise((resolve) => setTimeout(resolve, backoff));
      continue;
    }
    if (connections.size >= ceiling) {
      if (connections.shed(1) === 1) {
        shed++;
      } else {
        refused++;
        conn.close(); // every connection is busy: this one waits for none of them
        continue;
      }
    }
    if (failed > 0 && performance.now() - lastFailure >= RECOVERED_MS) {
      logEvent("accepting_again", {
        failed_accepts: failed,
        shed,
        refused,
        after_ms: Math.round(performance.now() - since),
      });
      failed =
        shed =
        refused =
        backoff =
          0;
    }
    serve(conn);
  }
}

/** Longest pause before plain `Deno.serve` is started again after its loop died. */
const RESTART_MAX_MS = 5_000;

/**
 * Plain `Deno.serve`: no header or idle timeouts; its accept loop ends for good on an error
 * (no file descriptors left), so it is started again on the same address, after a pause that
 * grows while it keeps failing.
 */
function fallback(options: HttpOptions, handler: Deno.ServeHandler): HttpServer {
  const finished = Promise.withResolvers<void>();
  let stopping = false;
  let current: Deno.HttpServer<Deno.NetAddr>;
  let pause = 50;
  const start = (port: number): Deno.HttpServer<Deno.NetAddr> => {
    const server = Deno.serve({
      port,
      hostname: options.hostname,
      reusePort: options.reusePort,
      onListen: () => {},
      // The loop logs its own end; the line below says what the server does about it.
      onError: onError,
    }, handler);
    server.finished.then(() => {
      if (stopping) finished.resolve();
    }, (error) => {
      if (stopping) return finished.resolve();
      logEvent("server_restarting", {
        error: (error as Error)?.message ?? String(error),
        after_ms: pause,
      });
      const retry = () => {
        if (stopping) return finished.resolve();
        try {
          current = start(addr.port);
          pause = 50;
        } catch {
          pause = Math.min(RESTART_MAX_MS, pause * 2);
          setTimeout(retry, pause);
        }
      };
      setTimeout(retry, pause);
    });
    return server;
  };
  current = start(options.port);
  const addr = current.addr;
  return {
    addr,
    shutdown: () => {
      stopping = true;
      return current.shutdown();
    },
    finished: finished.promise,
    setTimeouts: () => {},
    upgrades: true,
  };
}
