/**
 * Config in, Hono app out: the wiring. Every request gets an exchange (its id, its log line
 * at the end) and the browser guard; the gateway's own pages (and, with `server.visitors`,
 * the visitor endpoints) answer their paths; every other path goes to its route's line (see
 * `pipeline.ts`), found in a table.
 *
 * @module
 */
import { errorResponse } from "./errors.ts";
import { Hono } from "hono";
import type { AuthContext } from "./auth/auth.ts";
import { compileTokens } from "./auth/token.ts";
import { BodyBudget } from "./body/budget.ts";
import type { Pricing } from "./budget/worst_case.ts";
import { resolveTimeouts } from "./config/timeouts.ts";
import type { Config } from "./config/types.ts";
import { Exchange } from "./exchange.ts";
import type { KeyReaders } from "./keys/source.ts";
import { isoNow, type LogSink, stdoutSink } from "./observe/log.ts";
import { compilePages } from "./observe/pages.ts";
import { recordOf } from "./observe/record.ts";
import { type GatewayHooks, routeLine } from "./pipeline.ts";
import { QueueBoard } from "./queue/queue.ts";
import { SessionBoard } from "./realtime/board.ts";
import { type CompiledRoute, compileRoute } from "./route.ts";
import { RouteTable } from "./route_table.ts";
import { browserGuard } from "./rules/browser.ts";
import { namesNoHost } from "./rules/host.ts";
import { openStore } from "./store/open_store.ts";
import type { LimitStore } from "./store/store.ts";

export type { GatewayHooks } from "./pipeline.ts";
export type { RouteInfo } from "./keys/select.ts";

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
  /**
   * argon2id (`server.visitors`) compiled ahead of time, for runtimes that refuse to compile
   * WebAssembly from bytes (Cloudflare Workers, Vercel Edge): the `argon2.wasm` of the npm
   * package `@phi-ag/argon2` as the bundler imports it. Elsewhere the gateway compiles its own.
   */
  argon2Wasm?: WebAssembly.Module;
  /**
   * Answer a request that names no host (no `Host` header) with 400, as HTTP/1.1 asks: for
   * requests straight from Deno's HTTP server, which takes them. Library hosts parse request
   * heads themselves, and a `Request` made in code needs no `Host`; off by default.
   */
  requireHost?: boolean;
  /**
   * Whether the server can keep upgraded WebSockets open (true by default); false answers
   * upgrades with 503 (a listener that would drop them).
   */
  upgrades?: boolean;
}

/** The Hono environment of keyward's app: each request's exchange. */
export type GatewayEnv = { Variables: { exchange: Exchange } };

/** keyward's Hono app type. */
export type GatewayApp = Hono<GatewayEnv>;

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
  /** The WebSocket sessions open now. */
  sessions: SessionBoard;
  /** Whether a route serves `path` (a Node `upgrade` listener leaves other paths alone). */
  handles(path: string): boolean;
  /** Ends open sessions (1001) and closes what the gateway opened (its store, if it opened it). */
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

function requestId(incoming: string | null): string {
  if (incoming && REQUEST_ID.test(incoming)) return incoming;
  sequence++;
  return ID_PREFIX + sequence.toString(36);
}

/** A route's line, found by path. */
interface Routed {
  name: string;
  run: (x: Exchange) => Promise<Response>;
}

/**
 * Builds the Hono app for a validated config. Only what the config uses is loaded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildGateway } from "./gateway.ts";
 *
 * const gateway = await buildGateway({
 *   routes: [{ name: "echo", path: "/echo", upstream: "http://127.0.0.1:9", allow: ["GET /**"] }],
 * });
 * const response = await gateway.app.fetch(new Request("http://localhost/healthz"));
 * assert.equal(response.status, 200);
 * await gateway.close();
 * ```
 */
export async function buildGateway(
  config: Config,
  options: BuildOptions = {},
): Promise<BuiltGateway> {
  const sink = options.log ?? stdoutSink;
  const routes = config.routes.map((route) => compileRoute(route, options.readers));
  const store = options.store ?? openStore(config.store);
  const queues = new QueueBoard();
  const sessions = new SessionBoard();
  const snapshot = () => queues.snapshot();
  const pages = await compilePages(config, { routes, store, queues: snapshot });
  const trustForwarded = config.server?.trust_forwarded === true;
  // Visitors' code (and argon2id's WebAssembly) is loaded only for a config with visitors.
  const visitors = config.server?.visitors
    ? await (await import("./visitors/visitors.ts")).createVisitors(config.server.visitors, {
      store,
      trustForwarded,
      argon2Wasm: options.argon2Wasm,
    })
    : undefined;
  const auth: AuthContext = {
    tokens: compileTokens(config.clients ?? []),
    trustForwarded,
    visitors,
  };
  const context = {
    config,
    store,
    auth,
    // One budget for the bodies every route's rules hold at once.
    bodyBudget: new BodyBudget(config.server?.body_memory),
    queues,
    bodyTimeoutMs: resolveTimeouts(config.server?.timeouts).body,
    hooks: options.hooks ?? {},
    fetch: options.upstreamFetch,
    watch: config.server?.alerts
      ? new (await import("./observe/alerts.ts")).Alerts(config.server.alerts, store)
      : undefined,
    pricing: () =>
      pricing ??= import("./money/pricing.ts").then((money) => money.loadPricing(config.prices)),
    sessions,
    upgrades: options.upgrades !== false && config.server?.websockets !== false,
  };
  let pricing: Promise<Pricing> | undefined;
  const table = new RouteTable<Routed>();
  for (const route of routes) {
    const run = await routeLine(route, context);
    table.add(route.path, route.target ? "target" : "path", { name: route.name, run });
  }
  const end = (x: Exchange) => {
    const record = recordOf(x);
    pages.observe(record, x.streamed);
    sink(record);
  };
  const guard = browserGuard({ cors: config.server?.cors, pages: pages.paths });
  const requireHost = options.requireHost === true;

  const app: GatewayApp = new Hono<GatewayEnv>();
  app.use(async (c, next) => {
    const raw = c.req.raw;
    const x = new Exchange(
      raw,
      c.env,
      requestId(raw.headers.get("x-request-id")),
      isoNow(),
      c.req.path,
      end,
    );
    c.set("exchange", x);
    if (requireHost && namesNoHost(raw)) {
      return x.answer(x.refuse(
        "no_host",
        "The request names no host: an HTTP/1.1 request must carry a Host header",
      ));
    }
    const refused = guard(x);
    if (refused) return x.answer(refused);
    await next();
    x.answer(c.res);
    if (x.streamed) pages.streamOpened();
  });
  pages.mount(app as unknown as Hono);
  visitors?.mount(app as unknown as Hono);
  // One handler for every route: the table finds a route in time that does not grow with
  // their number, where Hono's router would match every route's pattern.
  app.all("*", (c) => {
    const x = c.get("exchange");
    const routed = table.find(x.path);
    if (!routed) return x.refuse("not_found", `No route for ${x.path}`);
    x.route = routed.name;
    return routed.run(x);
  });
  app.notFound((c) => c.get("exchange").refuse("not_found", `No route for ${c.req.path}`));
  app.onError((error, c) => {
    const x = c.get("exchange");
    const message = "The gateway failed to handle the request";
    if (x) return x.refuse("internal", message, undefined, undefined, error.name);
    return errorResponse("internal_error", message);
  });
  const close = async () => {
    sessions.closeAll();
    if (!options.store) await store.close();
  };
  const handles = (path: string) => table.find(path) !== undefined;
  return { app, routes, store, queues, sessions, handles, close };
}
