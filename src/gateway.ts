/**
 * Config in, Hono app out: every route compiled once into a chain of rules ending in the
 * forwarder, plus `/healthz`, JSON 404s and the per-request log line.
 *
 * @module
 */
import { Hono } from "hono";
import type { Config } from "./config/schema.ts";
import { resolveTimeouts } from "./config/timeouts.ts";
import {
  finish,
  type GatewayApp,
  type GatewayEnv,
  type RequestState,
  type Rule,
} from "./context.ts";
import { Secret } from "./keys/secret.ts";
import type { KeyEntry, KeyReaders } from "./keys/source.ts";
import { isoNow, type LogSink, stdoutSink } from "./observe/log.ts";
import { Metrics } from "./observe/metrics.ts";
import { statusHandler } from "./observe/status_route.ts";
import { errorResponse } from "./proxy/errors.ts";
import { addToHeaders } from "./proxy/headers.ts";
import { completedOf, forward } from "./proxy/forward.ts";
import { forwardWithPool } from "./proxy/pool_retry.ts";
import { type CompiledRoute, compileRoute } from "./route.ts";
import { RouteTable } from "./route_table.ts";
import { type Chain, composeRules } from "./chain.ts";
import { authRule, routeAuth } from "./auth/auth.ts";
import { compileTokens } from "./auth/token.ts";
import { BodyBudget } from "./body/budget.ts";
import { bodyRule } from "./body/rule.ts";
import { compileBodyRules } from "./body/rules.ts";
import { compileFieldPolicy, withFieldPolicy } from "./body/fields.ts";
import { PRESETS } from "./config/presets/mod.ts";
import { compileLimits } from "./limits/plan.ts";
import { limitsRule } from "./limits/rule.ts";
import { budgetClamp, reading } from "./limits/reserve.ts";
import { spendRule } from "./limits/spend.ts";
import { QueueBoard, RouteQueue } from "./limits/queue.ts";
import { queueRule } from "./limits/queue_rule.ts";
import { allowRule } from "./rules/allow.ts";
import { browserRule } from "./rules/browser.ts";
import { resolveRule } from "./rules/resolve.ts";
import type { LimitStore } from "./store/store.ts";
import { openStore } from "./store/open_store.ts";

/** What a hook learns about the route a request matched. */
export interface RouteInfo {
  /** The route's name. */
  name: string;
  /** The route's path. */
  path: string;
  /** The URL the request is about to be sent to (no key on it yet). */
  upstreamUrl: URL;
}

/** Code hooks for what a config cannot say. */
export interface GatewayHooks {
  /**
   * Supplies the key for a request (a secrets manager, a per-tenant key). Return undefined
   * to fall back to the route's configured key.
   */
  resolveKey?(route: RouteInfo, request: Request): string | undefined | Promise<string | undefined>;
  /**
   * The app's own session check, run before a route's rules. Return a client id to allow,
   * a Response to answer with it, or false/undefined to refuse with 401.
   */
  authorize?(
    request: Request,
  ): string | Response | false | undefined | Promise<string | Response | false | undefined>;
}

/** Options for {@linkcode buildGateway}. */
export interface BuildOptions {
  /** Code hooks. */
  hooks?: GatewayHooks;
  /** Where request records go (standard output by default). */
  log?: LogSink;
  /** How keys are read (environment and files by default). */
  readers?: KeyReaders;
  /**
   * The fetch used for upstream requests: e.g. one bound to a `Deno.createHttpClient` with
   * a corporate proxy or CA. The global `fetch` by default.
   */
  upstreamFetch?: typeof fetch;
  /**
   * The store limits count in. By default the gateway opens the one `store:` names, and
   * {@linkcode BuiltGateway.close} closes it; a store passed here is left open.
   */
  store?: LimitStore;
}

/** A built gateway: the Hono app and the routes it serves. */
export interface BuiltGateway {
  /** The Hono app; `app.fetch(request, info?)` serves a request. */
  app: GatewayApp;
  /** The compiled routes, in config order. */
  routes: readonly CompiledRoute[];
  /** The store limits count in (opened lazily: nothing connects until a limit is checked). */
  store: LimitStore;
  /** Requests waiting in each route's queue (`limits.queue`), and the expected wait. */
  queues: QueueBoard;
  /** Closes what the gateway opened (the store, unless it was passed in). */
  close(): Promise<void>;
}

let sequence = 0;
/**
 * Ids are this process's start time and a random tag (processes started together differ),
 * then a counter: unique, and cheap to make.
 */
const ID_PREFIX = `${Date.now().toString(36)}${
  crypto.getRandomValues(new Uint16Array(1))[0].toString(36)
}-`;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestId(incoming: string | undefined): string {
  if (incoming && REQUEST_ID.test(incoming)) return incoming;
  sequence++;
  return ID_PREFIX + sequence.toString(36);
}

/**
 * Builds the Hono app for a validated config.
 *
 * @example
 * ```ts
 * const { app } = buildGateway(config);
 * Deno.serve(app.fetch);
 * ```
 */
export function buildGateway(config: Config, options: BuildOptions = {}): BuiltGateway {
  const sink = options.log ?? stdoutSink;
  const hooks = options.hooks ?? {};
  const routes = config.routes.map((route) => compileRoute(route, options.readers));
  const app: GatewayApp = new Hono<GatewayEnv>();
  const metrics = config.server?.metrics ? new Metrics() : undefined;
  const store = options.store ?? openStore(config.store);
  const clients = config.clients ?? [];
  const queues = new QueueBoard();
  const status = config.server?.status
    ? statusHandler({
      routes,
      clients,
      store,
      adminSha256: config.server.admin?.token_sha256,
      queues: () => queues.snapshot(),
    })
    : undefined;
  const stats = status?.stats;
  const authContext = {
    tokens: compileTokens(clients),
    trustForwarded: config.server?.trust_forwarded === true,
  };
  const bodyTimeoutMs = resolveTimeouts(config.server?.timeouts).body;

  app.use(async (c, next) => {
    const raw = c.req.raw;
    const record = {
      time: isoNow(),
      id: requestId(raw.headers.get("x-request-id") ?? undefined),
      method: raw.method,
      path: c.req.path,
      status: 0,
      duration_ms: 0,
    } as RequestState["record"];
    const start = performance.now();
    const state: RequestState = {
      record,
      start,
      headers: { "x-request-id": record.id },
      bodyTimeoutMs,
      streaming: false,
      finally: [],
      log: () => {
        record.duration_ms = Math.round((performance.now() - start) * 10) / 10;
        if (metrics) {
          if (state.streaming) metrics.streamClosed();
          metrics.observe(record);
        }
        stats?.record(record);
        sink(record);
      },
    };
    c.set("state", state);
    await next();
    const response = c.res;
    record.status = response.status;
    if (response !== state.decorated) addToHeaders(response.headers, state.headers);
    if (!state.streaming) finish(state);
    else metrics?.streamOpened();
  });

  const statusPath = config.server?.status;
  const pages = ["/healthz", statusPath, config.server?.metrics].filter((p) => p !== undefined);
  app.use(browserRule({ cors: config.server?.cors, pages }));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  if (status) app.get(statusPath!, (c) => status.handle(c.req.raw));
  if (metrics) {
    app.get(config.server!.metrics!, () =>
      new Response(metrics.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }));
  }

  // Every route's waiting line, for metrics and the status page.
  metrics?.watchQueues(() => queues.snapshot());
  // One budget for the bodies every route's rules hold at once.
  const bodyBudget = new BodyBudget(config.server?.body_memory);
  const table = new RouteTable<Chain>();
  for (const route of routes) {
    const chain: Rule[] = [bind(route), resolveRule(route)];
    // Who is calling is settled before anything about the route is revealed (403 vs 401).
    if (hooks.authorize) chain.push(authorizeRule(hooks.authorize));
    const authConfig = routeAuth(config, route.config.auth);
    const auth = authRule(authConfig, authContext, route.readToken, route.name);
    chain.push(auth, allowRule(route));
    const fields = fieldPolicyOf(route);
    if (fields?.pathRule) chain.push(fields.pathRule);
    const limits = compileLimits(route.config.limits, clients, route.usage !== undefined);
    const waitMs = route.config.limits?.queue;
    if (limits.counted) chain.push(limitsRule(route.name, limits, store, waitMs !== undefined));
    // A token budget reserves the output maximum: a route without one gets a default clamp.
    const outputMax = budgetClamp(route.config.body?.max_tokens, limits);
    const bodyConfig = limits.tokens
      ? { ...route.config.body, max_tokens: outputMax }
      : route.config.body;
    // A JWT's claims may narrow the route (models, limits, once): the spend rule checks them.
    const jwt = typeof authConfig === "object" && "jwt" in authConfig;
    const compiled = withFieldPolicy(
      fields,
      compileBodyRules(bodyConfig, route.usage, limits.tokens, route.generate),
    );
    const rules = waitMs !== undefined ? reading(compiled, ["stream"]) : compiled;
    if (rules || limits.capped) chain.push(bodyRule(rules, limits, bodyBudget));
    if (waitMs !== undefined) {
      const queue = queues.add(new RouteQueue(route.name, waitMs));
      const pool = route.keys && route.keys.keys.length > 1 ? route.keys.health : undefined;
      chain.push(queueRule({ route: route.name, limits, store, queue, pool }));
    }
    if (limits.tokens || jwt) {
      chain.push(spendRule({ route: route.name, limits, store, outputMax }));
    }
    chain.push(forwardHandler(route, hooks.resolveKey, options.upstreamFetch));
    table.add(route.path, route.target ? "target" : "path", composeRules(chain));
  }
  // One handler for every route: the table finds a route in time that does not grow with
  // their number, where Hono's router would match every route's pattern.
  app.all("*", async (c) => {
    const run = table.find(c.req.path);
    if (!run) return notFound(c.req.path);
    await run(c);
    return c.res;
  });

  app.notFound((c) => notFound(c.req.path));
  app.onError((error, c) => {
    const state = c.get("state");
    if (state) state.record.error = `internal: ${error.name}`;
    return errorResponse("internal_error", "The gateway failed to handle the request");
  });
  const close = options.store ? () => Promise.resolve() : () => store.close();
  return { app, routes, store, queues, close };
}

function notFound(path: string): Response {
  return errorResponse("not_found", `No route for ${path}`);
}

/** The route's preset's body field policy with the route's settings, if its preset has one. */
function fieldPolicyOf(route: CompiledRoute) {
  const policy = route.config.preset ? PRESETS[route.config.preset].fields : undefined;
  return policy ? compileFieldPolicy(policy, route.config.body) : undefined;
}

function bind(route: CompiledRoute): Rule {
  const name = route.name;
  return async (c, next) => {
    c.set("route", route);
    c.get("state").record.route = name;
    await next();
  };
}

function authorizeRule(authorize: NonNullable<GatewayHooks["authorize"]>): Rule {
  return async (c, next) => {
    const verdict = await authorize(c.req.raw);
    if (verdict instanceof Response) return verdict;
    if (!verdict) return errorResponse("unauthorized", "The request is not authorized");
    c.get("state").record.client = verdict;
    await next();
  };
}

function forwardHandler(
  route: CompiledRoute,
  resolveKey: GatewayHooks["resolveKey"],
  upstreamFetch: typeof fetch | undefined,
): Rule {
  const info = { name: route.name, path: route.path };
  const pooled = route.keys !== undefined && route.keys.keys.length > 1;
  return async (c) => {
    const state = c.get("state");
    const url = state.upstreamUrl!;
    let key: KeyEntry | undefined;
    if (resolveKey) {
      const value = await resolveKey({ ...info, upstreamUrl: url }, c.req.raw);
      if (value) key = { origin: "hook", secret: new Secret(value) };
    }
    if (!key && route.keys) {
      key = route.keys.pick();
      if (!key) {
        state.record.error = `no key configured (${route.keys.missing.join(", ")})`;
        return errorResponse("key_unavailable", `Route ${route.name} has no key configured`);
      }
    }
    const input = {
      request: c.req.raw,
      url,
      key,
      body: state.body,
      fetch: upstreamFetch,
      completed: completedOf(c.env),
    };
    if (pooled && key && key.origin !== "hook") {
      return await forwardWithPool(route, state, { ...input, key }, route.keys!);
    }
    return await forward(route, state, input);
  };
}
