/**
 * The status page's content, as JSON: uptime, each route with its upstream and what it
 * allows, key pool health (a short digest tells keys apart, never a key), requests, errors
 * and tokens per route over the last hour and day (from the store, so every instance shows
 * the same), and the queue. With `server.admin`, a request bearing the admin token also sees
 * each client's usage and what remains of its limits.
 *
 * @module
 */
import type { QueueSnapshot } from "../queue/queue.ts";
import { equalDigests, presentedToken } from "../auth/token.ts";
import { sha256 } from "../auth/sha256.ts";
import type { ClientConfig, RouteLimitsConfig } from "../config/types.ts";
import { type Rate, rateText, UNITS_PER_USD } from "../config/units.ts";
import { spendRateText } from "../usd.ts";
import { type KeyView, routeKeys } from "../keys/status.ts";
import type { KeySource } from "../keys/source.ts";
import { compileLimits, memberWindow, planFor } from "../limits/plan.ts";
import type { LimitStore } from "../store/store.ts";
import { type RouteSeries, RouteStats } from "./route_stats.ts";

/** One route on the status page. */
export interface RouteStatus {
  /** The route's name. */
  route: string;
  /** Its path on the gateway. */
  path: string;
  /** `path` (one upstream) or `target` (the client names a URL on one of `hosts`). */
  mode: "path" | "target";
  /** The upstream's host, in path mode. */
  upstream?: string;
  /** The hosts a target may name, in target mode. */
  hosts?: string[];
  /** The allow list: `METHOD PATH-GLOB`. */
  allow: string[];
  /** The route's limits, as written (`60/min`). */
  limits: Record<string, string>;
  /** The route's keys, in pool order: where each comes from, its state and a digest. */
  keys: KeyView[];
  /** Keys the route names that are not set (their requests get 503). */
  keys_missing: number;
  /**
   * Requests waiting for their turn in this instance (`limits.queue`), and how long a request
   * arriving now would wait; zero for routes without a queue.
   */
  queue: { length: number; expected_wait_ms: number };
  /** Requests, errors, tokens and spend over the last hour and day. */
  stats: Record<string, RouteSeries>;
  /** The route's ceiling over all its clients (`limits.route`), as it stands. */
  ceiling?: LimitUsage;
}

/** Where a client, or a route as a whole, stands against each of its limits. */
export interface LimitUsage {
  /** Requests in the current window. */
  requests?: Usage;
  /** Tokens in the current window. */
  tokens?: Usage;
  /** Dollars in the current window. */
  spend?: Usage;
}

/** One client's standing on one route (admin view). */
export interface ClientRouteUsage extends LimitUsage {
  /** The route. */
  route: string;
}

/** A counter against its limit (dollars for spend). */
export interface Usage {
  /** Used in the current window. */
  used: number;
  /** The limit per window. */
  limit: number;
  /** What remains. */
  remaining: number;
  /** Seconds until the window starts again. */
  reset_s: number;
  /** The window, as written (`100/hour`). */
  window: string;
}

/** The whole status page. */
export interface StatusReport {
  /** When this instance started (ISO time). */
  started: string;
  /** Seconds since then. */
  uptime_s: number;
  /** Every route, in config order. */
  routes: RouteStatus[];
  /**
   * Every client that made requests in the window on a limited route, and every configured
   * client, with its usage per limited route; only for the admin token.
   */
  clients?: { id: string; routes: ClientRouteUsage[] }[];
}

/** What the status page shows of a compiled route. */
export interface StatusRoute {
  /** The route's name. */
  readonly name: string;
  /** Its path on the gateway. */
  readonly path: string;
  /** The route as written (its limits). */
  readonly config: { readonly limits?: RouteLimitsConfig };
  /** The upstream base URL, in path mode. */
  readonly upstream?: URL;
  /** The target settings, in target mode. */
  readonly targetConfig?: { readonly hosts: readonly string[] };
  /** The allow list as written. */
  readonly allowList: readonly string[];
  /** The route's keys. */
  readonly keys?: KeySource;
  /** How the upstream reports usage, when it does. */
  readonly usage?: string;
}

/** What the status page needs from the gateway. */
export interface StatusOptions {
  /** The compiled routes. */
  routes: readonly StatusRoute[];
  /** The configured clients. */
  clients: readonly ClientConfig[];
  /** The store limits and route counters live in. */
  store: LimitStore;
  /** `server.admin.token_sha256`, when set. */
  adminSha256?: string;
  /** The routes' queues as they stand (`limits.queue`). */
  queues?: () => readonly QueueSnapshot[];
}

/** The status page's data source, compiled once. */
export interface StatusSource {
  /** Counts finished requests (call for every request record). */
  stats: RouteStats;
  /** Whether a request bears the admin token. */
  isAdmin(request: Request): boolean;
  /** Builds the report; `admin` adds the clients. */
  report(admin: boolean): Promise<StatusReport>;
}

function limitsText(limits: RouteLimitsConfig | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (limits?.requests) out.requests = rateText(limits.requests);
  if (limits?.tokens) out.tokens = rateText(limits.tokens);
  if (limits?.spend) out.spend = spendRateText(limits.spend);
  const ceiling = limits?.route;
  if (ceiling?.requests) out["route requests"] = rateText(ceiling.requests);
  if (ceiling?.concurrent) out["route concurrent"] = String(ceiling.concurrent);
  if (ceiling?.tokens) out["route tokens"] = rateText(ceiling.tokens);
  if (ceiling?.spend) out["route spend"] = spendRateText(ceiling.spend);
  if (limits?.concurrent) out.concurrent = String(limits.concurrent);
  if (limits?.body !== undefined) out.body = `${limits.body} bytes`;
  return out;
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Compiles the status page's data source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "../store/memory.ts";
 * import { compileStatus } from "./status.ts";
 *
 * const route = {
 *   name: "openai",
 *   path: "/openai",
 *   config: { limits: { requests: { limit: 60, windowMs: 60_000 } } },
 *   upstream: new URL("https://api.openai.com"),
 *   allowList: ["POST /v1/chat/completions"],
 * };
 * const status = compileStatus({ routes: [route], clients: [], store: new MemoryStore() });
 * const report = await status.report(false); // `true` adds each client's usage (admin)
 * assert.equal(report.routes[0].upstream, "api.openai.com");
 * assert.deepEqual(report.routes[0].limits, { requests: "60/min" });
 * ```
 */
export function compileStatus(options: StatusOptions): StatusSource {
  const started = Date.now();
  const stats = new RouteStats(options.store);
  const admin = options.adminSha256 ? fromHex(options.adminSha256) : undefined;
  // Each route's limits with every client's overrides, merged once.
  const limits = options.routes.map((route) =>
    [route, compileLimits(route.config.limits, options.clients, route.usage !== undefined)] as const
  );

  const queueOf = (name: string) => {
    const queue = options.queues?.().find((q) => q.route === name);
    return { length: queue?.waiting ?? 0, expected_wait_ms: queue?.expected_wait_ms ?? 0 };
  };

  const routeStatus = async (route: StatusRoute): Promise<RouteStatus> => {
    const keys = await routeKeys(route.keys);
    const target = route.targetConfig;
    return {
      route: route.name,
      path: route.path,
      mode: target ? "target" : "path",
      ...(route.upstream ? { upstream: route.upstream.host } : {}),
      ...(target ? { hosts: [...target.hosts] } : {}),
      allow: [...route.allowList],
      limits: limitsText(route.config.limits),
      keys,
      keys_missing: route.keys?.missing.length ?? 0,
      queue: queueOf(route.name),
      stats: await stats.read(route.name),
      ...(ceilingOf(route)
        ? { ceiling: await standing(options.store, route.name, ceilingOf(route)!) }
        : {}),
    };
  };
  const ceilingOf = (route: StatusRoute) => limits.find(([r]) => r === route)?.[1].ceiling;

  /** A client's standing on each route that limits it. */
  const clientUsage = async (id: string) => {
    const routes: ClientRouteUsage[] = [];
    for (const [route, routeLimits] of limits) {
      const plan = planFor(routeLimits, id, true);
      if (!plan.requests && !plan.tokens && !plan.spend) continue;
      routes.push({
        route: route.name,
        ...await standing(options.store, `${route.name}:${id}`, plan),
      });
    }
    return { id, routes };
  };

  /** The configured clients, then everyone else who made requests in the window. */
  const everyone = async (): Promise<string[]> => {
    const ids = new Set(options.clients.map((client) => client.id));
    for (const [route, routeLimits] of limits) {
      if (!routeLimits.counted) continue;
      try {
        for (
          const id of await options.store.members(
            `clients:${route.name}`,
            memberWindow(routeLimits),
          )
        ) {
          ids.add(id);
        }
      } catch {
        // the store is down: the configured clients still show
      }
    }
    return [...ids];
  };

  return {
    stats,
    isAdmin(request) {
      if (!admin) return false;
      const token = presentedToken(request.headers);
      return token !== undefined && equalDigests(sha256(token), admin);
    },
    async report(isAdmin) {
      const now = Date.now();
      const report: StatusReport = {
        started: new Date(started).toISOString(),
        uptime_s: Math.floor((now - started) / 1000),
        routes: await Promise.all(options.routes.map(routeStatus)),
      };
      if (isAdmin) report.clients = await Promise.all((await everyone()).map(clientUsage));
      return report;
    },
  };
}

/** Where `scope` (`route:client`, or a route) stands against each of `limits`. */
async function standing(
  store: LimitStore,
  scope: string,
  limits: { requests?: Rate; tokens?: Rate; spend?: Rate },
): Promise<LimitUsage> {
  const out: LimitUsage = {};
  if (limits.requests) out.requests = await usage(store, `requests:${scope}`, limits.requests);
  if (limits.tokens) out.tokens = await usage(store, `tokens:${scope}`, limits.tokens);
  if (limits.spend) out.spend = await usage(store, `spend:${scope}`, limits.spend, true);
  return out;
}

async function usage(store: LimitStore, key: string, rate: Rate, spend = false): Promise<Usage> {
  const { count, resetMs } = await store.read(key, rate.windowMs);
  const unit = spend ? UNITS_PER_USD : 1;
  return {
    used: count / unit,
    limit: rate.limit / unit,
    remaining: Math.max(0, rate.limit - count) / unit,
    reset_s: Math.ceil(resetMs / 1000),
    window: spend ? spendRateText(rate) : rateText(rate),
  };
}
