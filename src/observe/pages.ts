/**
 * The gateway's own pages besides its routes: `/healthz`, the status page (`server.status`)
 * and the Prometheus metrics (`server.metrics`). The status page and the metrics are loaded
 * only for a config that turns them on.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Config } from "../config/types.ts";
import type { QueueSnapshot } from "../queue/queue.ts";
import type { LimitStore } from "../store/store.ts";
import type { RequestRecord } from "./log.ts";
import type { StatusRoute } from "./status.ts";

/** What the pages need from the gateway. */
export interface PagesOptions {
  /** The compiled routes. */
  routes: readonly StatusRoute[];
  /** The store limits and route counters live in. */
  store: LimitStore;
  /** The routes' queues as they stand. */
  queues: () => readonly QueueSnapshot[];
}

/** The gateway's pages, compiled. */
export interface Pages {
  /** Their paths (a browser tab may open them). */
  readonly paths: readonly string[];
  /** Counts one finished request for the metrics and the status page's charts. */
  observe(record: RequestRecord, streamed: boolean): void;
  /** A response body started streaming to a client. */
  streamOpened(): void;
  /** Adds the pages to `app`. */
  mount(app: Hono): void;
}

/**
 * Compiles the pages a config turns on.
 *
 * @example
 * ```ts
 * import { compilePages } from "./pages.ts";
 * import { MemoryStore } from "../store/memory.ts";
 *
 * const pages = await compilePages({ routes: [] }, {
 *   routes: [],
 *   store: new MemoryStore(),
 *   queues: () => [],
 * });
 * if (!pages.paths.includes("/healthz")) throw new Error("no health page");
 * ```
 */
export async function compilePages(config: Config, options: PagesOptions): Promise<Pages> {
  const statusPath = config.server?.status;
  const metricsPath = config.server?.metrics;
  const status = statusPath
    ? (await import("./status_route.ts")).statusHandler({
      routes: options.routes,
      clients: config.clients ?? [],
      store: options.store,
      adminSha256: config.server?.admin?.token_sha256,
      queues: options.queues,
    })
    : undefined;
  const metrics = metricsPath ? new (await import("./metrics.ts")).Metrics() : undefined;
  metrics?.watchQueues(options.queues);
  const stats = status?.stats;
  const paths = ["/healthz"];
  if (statusPath) paths.push(statusPath);
  if (metricsPath) paths.push(metricsPath);
  return {
    paths,
    observe(record, streamed) {
      if (metrics) {
        if (streamed) metrics.streamClosed();
        metrics.observe(record);
      }
      stats?.record(record);
    },
    streamOpened() {
      metrics?.streamOpened();
    },
    mount(app) {
      app.get("/healthz", (c) => c.json({ status: "ok" }));
      if (status) app.get(statusPath!, (c) => status.handle(c.req.raw));
      if (metrics) {
        app.get(metricsPath!, () =>
          new Response(metrics.render(), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          }));
      }
    },
  };
}
