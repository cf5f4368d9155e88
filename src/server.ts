/**
 * The standalone server: the gateway over an HTTP listener that closes quiet connections and
 * survives running out of file descriptors (server/http.ts), reload on SIGHUP or a changed file
 * (a bad file keeps the old config serving), and graceful shutdown on SIGINT/SIGTERM.
 *
 * @module
 */
import { ConfigError, type LoadedConfig } from "./config/issues.ts";
import { loadConfigFile } from "./config/load_file.ts";
import { buildGateway, type BuildOptions, type BuiltGateway } from "./gateway.ts";
import { logEvent } from "./observe/log.ts";
import { parseDuration } from "./config/units.ts";
import type { Config } from "./config/types.ts";
import type { LimitStore } from "./store/store.ts";
import { openStore } from "./store/open_store.ts";
import { defaultUpstream } from "./proxy/upstream.ts";
import { resolveTimeouts } from "./config/timeouts.ts";
import { serveHttp } from "./server/http.ts";
import { upgradesSurvivePerConnection } from "./server/upgrade_check.ts";
import { PRESETS } from "./config/presets/mod.ts";
import { checkStoreAccess } from "./server/store_access.ts";
import { listenSignal } from "./server/signals.ts";

/** Options for {@linkcode serve}. */
export interface ServeOptions extends BuildOptions {
  /** Path of routes.yaml. */
  configPath: string;
  /** Port; beats `PORT` and the file. */
  port?: number;
  /** Listen address; beats the file. */
  hostname?: string;
  /**
   * Share the port with other processes (`SO_REUSEPORT`, Linux): run one keyward per core
   * and the kernel spreads connections between them.
   */
  reusePort?: boolean;
  /** Reload when the file changes (default true). */
  watch?: boolean;
  /** Install SIGHUP/SIGINT/SIGTERM handlers (default true). */
  signals?: boolean;
}

/** A running server. */
export interface RunningServer {
  /** The address it listens on. */
  addr: Deno.NetAddr;
  /** The gateway currently serving new requests. */
  current(): BuiltGateway;
  /** Reloads the config file; false when it was invalid and the old config stays. */
  reload(): Promise<boolean>;
  /** Stops accepting, lets in-flight requests finish (bounded), and resolves when done. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

const DEFAULT_DRAIN_MS = 30_000;

/** Whether a built gateway proxies WebSockets (a route names a socket endpoint). */
function servesSockets(gateway: BuiltGateway): boolean {
  return gateway.routes.some((route) => route.realtime.sockets);
}

const PLAIN_REASON = "routes proxy WebSockets, and this Deno closes a socket upgraded on the " +
  "per-connection listener: serving with Deno.serve, without header or idle timeouts " +
  "(restarted if file descriptors run out); server.websockets: false keeps them";

/**
 * Loads the config and serves it until shutdown.
 *
 * @throws {ConfigError} when the initial config is invalid
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./server.ts";
 *
 * const server = await serve({
 *   configPath: "routes.yaml",
 *   port: 0, // any free port; when left out: PORT, then the file's server.port, then 8080
 *   hostname: "127.0.0.1",
 *   watch: false, // reload on SIGHUP only
 *   signals: false, // no SIGHUP, SIGINT or SIGTERM handlers
 * });
 * const health = await fetch(`http://127.0.0.1:${server.addr.port}/healthz`);
 * assert.equal(health.status, 200);
 * await health.body?.cancel();
 * await server.shutdown(); // what SIGINT and SIGTERM do
 * ```
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const loaded = await loadConfigFile(options.configPath);
  if (!options.store) checkStoreAccess(loaded);
  // The store outlives reloads (counters carry on) unless a reload names another store.
  const storeOf = (config: Config) => JSON.stringify(config.store ?? { kind: "memory" });
  let storeId = storeOf(loaded.config);
  let store: LimitStore = options.store ?? openStore(loaded.config.store);
  // keyward's own HTTP/1.1 client, unless the caller brings a fetch (see proxy/upstream.ts).
  const client = defaultUpstream();
  const upstreamFetch = options.upstreamFetch ?? client.fetch;
  // Deno's server takes a request with no Host: the gateway answers it with 400.
  const build = { ...options, upstreamFetch, requireHost: options.requireHost ?? true };
  // The listener check (a loopback socket and a timer) runs while the gateway is built, for a
  // config whose routes may proxy sockets (a preset with socket endpoints).
  const survive = loaded.config.server?.websockets !== false &&
      loaded.config.routes.some((route) => route.preset && PRESETS[route.preset].realtime)
    ? upgradesSurvivePerConnection()
    : undefined;
  let gateway = await buildGateway(loaded.config, { ...build, store });
  // The sessions of every gateway built (reloads too): shutting down ends those still open.
  const boards = new Set([gateway.sessions]);
  const wantsSockets = (next: BuiltGateway, config: Config) =>
    config.server?.websockets !== false && servesSockets(next);
  const plain = wantsSockets(gateway, loaded.config) && !(await (survive ?? false))
    ? PLAIN_REASON
    : undefined;
  let drainMs = loaded.config.server?.drain ?? DEFAULT_DRAIN_MS;
  const envPort = Deno.env.get("PORT");
  const port = options.port ?? (envPort ? Number(envPort) : undefined) ??
    loaded.config.server?.port ?? 8080;
  const hostname = options.hostname ?? loaded.config.server?.hostname ?? "0.0.0.0";

  // Header and idle timeouts are the listener's, the body timeout is the gateway's.
  const server = serveHttp({
    port,
    hostname,
    reusePort: options.reusePort,
    timeouts: resolveTimeouts(loaded.config.server?.timeouts),
    plain,
  }, (request, info) => gateway.app.fetch(request, info));
  const addr = server.addr;

  const reload = async (): Promise<boolean> => {
    let next: LoadedConfig;
    try {
      next = await loadConfigFile(options.configPath);
      if (!options.store) checkStoreAccess(next);
    } catch (error) {
      const issues = error instanceof ConfigError ? error.message : String(error);
      logEvent("reload_failed", { file: options.configPath, issues: issues.split("\n") });
      return false;
    }
    if (!options.store && storeOf(next.config) !== storeId) {
      const old = store;
      store = openStore(next.config.store);
      storeId = storeOf(next.config);
      // Requests in flight on the old config still give back their slots there.
      const timer = setTimeout(() => void old.close(), drainMs);
      Deno.unrefTimer(timer);
    }
    let candidate = await buildGateway(next.config, { ...build, store });
    if (
      !server.upgrades && wantsSockets(candidate, next.config) &&
      !(await upgradesSurvivePerConnection())
    ) {
      // This listener would drop the sockets: they are answered 503 until a restart.
      candidate = await buildGateway(next.config, { ...build, store, upgrades: false });
      logEvent("websockets_need_restart", {
        reason: "the reloaded routes proxy WebSockets, which this listener cannot keep open; " +
          "upgrades are answered 503 until the server is restarted",
      });
    }
    for (const board of boards) if (board.size === 0) boards.delete(board);
    gateway = candidate;
    boards.add(gateway.sessions);
    drainMs = next.config.server?.drain ?? DEFAULT_DRAIN_MS;
    server.setTimeouts(resolveTimeouts(next.config.server?.timeouts));
    logEvent("reloaded", { file: options.configPath, routes: gateway.routes.length });
    return true;
  };

  const cleanups: (() => void)[] = [];
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logEvent("stopping", { drain_ms: drainMs });
      for (const cleanup of cleanups) cleanup();
      // Open sessions end now (1001, "going away"), both sides, each with its log line; their
      // close frames leave before the listener's own shutdown closes the sockets.
      let open = 0;
      for (const board of boards) {
        open += board.size;
        board.closeAll();
      }
      if (open > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<void>((resolve) => timer = setTimeout(resolve, drainMs));
      await Promise.race([server.shutdown(), bound]);
      clearTimeout(timer);
      if (!options.store) await store.close();
      client.close();
      logEvent("stopped");
    })();
    return stopping;
  };

  if (options.signals !== false) {
    const onHup = () => void reload();
    const onStop = () => void shutdown().then(() => Deno.exit(0));
    // Windows has SIGINT and SIGBREAK only: Ctrl+Break stands in for SIGTERM there.
    const stop = listenSignal("SIGTERM", onStop, cleanups) ??
      listenSignal("SIGBREAK", onStop, cleanups);
    listenSignal("SIGINT", onStop, cleanups);
    if (!listenSignal("SIGHUP", onHup, cleanups)) {
      logEvent("signal_unavailable", {
        signal: "SIGHUP",
        effect: "no reload on SIGHUP; the file is still reloaded when it changes",
      });
    }
    if (!stop) {
      logEvent("signal_unavailable", {
        signal: "SIGTERM",
        effect: "no graceful stop on SIGTERM; SIGINT (Ctrl+C) still stops gracefully",
      });
    }
  }
  if (options.watch !== false) cleanups.push(watchFile(options.configPath, reload));
  // Last, so whoever waits for this line finds the file watched and the signals handled.
  logEvent("listening", {
    hostname: addr.hostname,
    port: addr.port,
    routes: gateway.routes.length,
  });

  return {
    addr,
    current: () => gateway,
    reload,
    shutdown,
    finished: server.finished,
  };
}

function watchFile(path: string, reload: () => Promise<boolean>): () => void {
  // Watch the folder, not the file: editors and deploy tools replace files by renaming.
  let watcher: Deno.FsWatcher;
  let target: string;
  try {
    target = Deno.realPathSync(path);
    watcher = Deno.watchFs(folderOf(target), { recursive: false });
  } catch (error) {
    logEvent("watch_unavailable", {
      file: path,
      error: (error as Error)?.name ?? "Error",
      effect: "no reload when the file changes; SIGHUP still reloads where it exists",
    });
    return () => {};
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access" || !event.paths.some((p) => samePath(p, target))) continue;
        // Editors write in several steps; reload once the file has settled.
        clearTimeout(timer);
        timer = setTimeout(() => void reload(), parseDuration("100ms"));
      }
    } catch {
      // the watcher was closed
    }
  })();
  return () => {
    clearTimeout(timer);
    try {
      watcher.close();
    } catch {
      // closed already
    }
  };
}

// Plain string work rather than node:path, whose first import costs the Node compatibility
// layer's start-up (about 15 ms) before the server can answer.

/** The folder of an absolute path, POSIX or Windows (`/a/b` -> `/a`, `C:\a` -> `C:\`). */
function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (cut < 0) return ".";
  const folder = path.slice(0, cut);
  // The root keeps its separator: "/" and "C:\".
  return folder === "" || /^[A-Za-z]:$/.test(folder) ? path.slice(0, cut + 1) : folder;
}

/** Whether a watcher's event path names the file (both absolute, as the watcher joins them). */
function samePath(path: string, target: string): boolean {
  if (path === target) return true;
  const plain = (p: string) => p.replaceAll("\\", "/").replace(/\/+$/, "");
  return plain(path) === plain(target);
}
