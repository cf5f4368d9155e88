/**
 * The order of the stages a request goes through on a route, and the one place that states
 * it:
 *
 * 1. resolve: where the request goes (`upstream`), its path checked for tricks;
 * 2. auth: who is calling (`client`), settled before anything about the route is revealed
 *    (so a stranger gets 401, not 403);
 * 3. allow: the method and path are in the allow list (and, on inference.sh, the app a path
 *    names is in `body.apps`);
 * 4. limits: which limits apply (`plan`); the request counted, an in-flight slot taken;
 * 5. body: the cap and the body rules; what goes upstream and what it says (`body`);
 * 6. queue (`limits.queue`): wait for a slot or a cooling key pool instead of 429;
 * 7. budget: a client token's claims, token budgets reserved at the worst case
 *    (`reservation`);
 * 8. key: the key the request goes out with (`key`);
 * 9. forward: the upstream call, its answer streamed back through the key redactor and the
 *    usage meter.
 *
 * A WebSocket upgrade to one of the route's socket endpoints leaves the line after the limits
 * stage (it counts as a request, and holds its slot while it is open) for its own: the socket
 * stage in place of the body stage, then the same queue, budget and key stages, and a socket
 * handler in place of the forward handler (see `realtime/line.ts`). On the openai preset, an
 * ephemeral key request gets its own check after the body stage (`realtime/secrets.ts`).
 *
 * Each stage's type says what it needs of those before it, so this order is checked when it
 * compiles. Stages a route's config does not use are left out, and their code is not loaded.
 *
 * @module
 */
import { type AuthContext, type AuthorizeHook, authStage, isJwt, routeAuth } from "./auth/auth.ts";
import { bodyStage } from "./body/body.ts";
import type { BodyBudget } from "./body/budget.ts";
import type { RouteRules } from "./body/route_rules.ts";
import { budgetClamp } from "./budget/reserve.ts";
import type { BudgetWatch } from "./budget/standing.ts";
import type { Pricing } from "./budget/worst_case.ts";
import { PRESETS } from "./config/presets/mod.ts";
import type { Config } from "./config/types.ts";
import type { Exchange } from "./exchange.ts";
import { forwardHandler } from "./forward/forward.ts";
import { keyStage, type ResolveKeyHook } from "./keys/select.ts";
import { limitsStage } from "./limits/limits.ts";
import { compileLimits } from "./limits/plan.ts";
import { type QueueBoard, RouteQueue } from "./queue/queue.ts";
import type { CompiledRoute } from "./route.ts";
import { allowStage } from "./rules/allow.ts";
import { resolveStage } from "./rules/resolve.ts";
import { Line } from "./stage.ts";
import type { LimitStore } from "./store/store.ts";
import type { SessionBoard } from "./realtime/board.ts";
import type { UpstreamVariables } from "./rules/resolve.ts";
import type { ClientVariables } from "./auth/auth.ts";
import type { PlanVariables } from "./limits/limits.ts";

/** Code hooks for what a config cannot say. */
export interface GatewayHooks {
  /**
   * Supplies the key for a request (a secrets manager, a per-tenant key). Return undefined
   * to fall back to the route's configured key.
   */
  resolveKey?: ResolveKeyHook;
  /**
   * The app's own session check, run before a route's auth. Return a client id to allow,
   * a Response to answer with it, or false/undefined to refuse with 401.
   */
  authorize?: AuthorizeHook;
}

/** What every route's line shares, made once per config. */
export interface LineContext {
  /** The validated config. */
  config: Config;
  /** The store limits count in. */
  store: LimitStore;
  /** What every route's auth shares. */
  auth: AuthContext;
  /** Bytes held for body rules across every request. */
  bodyBudget: BodyBudget;
  /** Every route's waiting line. */
  queues: QueueBoard;
  /** The longest silence while a request body arrives, in ms. */
  bodyTimeoutMs: number;
  /** Code hooks. */
  hooks: GatewayHooks;
  /** The fetch that reaches the upstreams (the runtime's when left out). */
  fetch?: typeof fetch;
  /** Hears each budget's standing after a change (`server.alerts`). */
  watch?: BudgetWatch;
  /**
   * The prices the gateway charges at, loaded on first use (only routes with budgets or client
   * tokens ask, and one of those needs it).
   */
  pricing?: () => Promise<Pricing>;
  /** The gateway's open WebSocket sessions (a route with socket endpoints adds to it). */
  sessions?: SessionBoard;
  /**
   * Whether the server can keep an upgraded socket open; false makes upgrades 503 (a
   * standalone listener that drops them, see `server/http.ts`). True when left out.
   */
  upgrades?: boolean;
}

/**
 * Compiles a route's line: one function that takes a request through every stage the route
 * needs, in the order above.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTokens } from "./auth/token.ts";
 * import { BodyBudget } from "./body/budget.ts";
 * import { Exchange } from "./exchange.ts";
 * import { routeLine } from "./pipeline.ts";
 * import { QueueBoard } from "./queue/queue.ts";
 * import { compileRoute } from "./route.ts";
 * import { MemoryStore } from "./store/memory.ts";
 *
 * const config = { routes: [{ name: "openai", path: "/openai", preset: "openai" as const }] };
 * const route = compileRoute(config.routes[0], { env: () => "sk-test" });
 * const provider = () => Promise.resolve(Response.json({ data: [] })); // stands in for OpenAI
 * const run = await routeLine(route, {
 *   config,
 *   store: new MemoryStore(),
 *   auth: { tokens: compileTokens([]), trustForwarded: false },
 *   bodyBudget: new BodyBudget(),
 *   queues: new QueueBoard(),
 *   bodyTimeoutMs: 60_000,
 *   hooks: {},
 *   fetch: provider,
 * });
 *
 * const request = new Request("http://gateway/openai/v1/models");
 * const x = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 * const answer = await run(x);
 * assert.deepEqual(await answer.json(), { data: [] });
 * ```
 */
export async function routeLine(
  route: CompiledRoute,
  context: LineContext,
): Promise<(x: Exchange) => Promise<Response>> {
  const { config, store, hooks } = context;
  const own = route.config;
  const authConfig = routeAuth(config, own.auth);
  const limits = compileLimits(own.limits, config.clients ?? [], route.usage !== undefined);
  const waitMs = own.limits?.queue;
  // A budget reserves the output maximum: a route without one gets a default clamp.
  const budgeted = limits.tokens || limits.spend;
  const outputMax = budgetClamp(own.body?.max_tokens, limits);
  const policy = own.preset ? PRESETS[own.preset].fields : undefined;
  // A JWT's claims may narrow the models: for such a token every JSON body is read.
  const jwt = isJwt(authConfig);
  const queued = waitMs !== undefined;
  const rules: RouteRules = own.body || budgeted || policy || queued || jwt
    ? (await import("./body/route_rules.ts")).compileRouteRules({
      body: budgeted ? { ...own.body, max_tokens: outputMax } : own.body,
      usage: route.usage,
      countTokens: budgeted,
      generate: route.generate,
      policy,
      queued,
      models: jwt,
    })
    : {};
  const pool = route.keys && route.keys.keys.length > 1 ? route.keys : undefined;
  const queue = queued ? await import("./queue/queue_stage.ts") : undefined;
  const budget = budgeted || jwt ? await import("./budget/budget.ts") : undefined;
  if (budget && !context.pricing) throw new Error(`Route ${route.name} has budgets but no prices`);
  const pricing = budget ? await context.pricing!() : undefined;
  const bounds = budget && route.usage ? await import("./budget/input.ts") : undefined;
  // The tokenizer loads in the background from now on (a budgeted OpenAI route needs it).
  if (bounds && budgeted) {
    void (await import("./budget/tokenize.ts")).prepareTokenizer(route.usage!, own.body?.models);
  }
  const budgetSettings = {
    route: route.name,
    store,
    outputMax,
    format: route.usage,
    ceiling: limits.ceiling,
    watch: context.watch,
    pricing,
    bound: bounds?.boundRequest,
  };
  // One instance of each stage both lines share: a queue counts HTTP requests and sessions.
  const queueStage = queue?.queueStage({
    route: route.name,
    store,
    queue: context.queues.add(new RouteQueue(route.name, waitMs!)),
    pool: pool?.health,
    routeConcurrent: limits.ceiling?.concurrent,
  });
  const budgetStage = budget?.budgetStage(budgetSettings);
  const key = keyStage(route, hooks.resolveKey);
  const { sockets, secrets } = route.realtime;
  const realtime = sockets ? await import("./realtime/line.ts") : undefined;
  let socketLine: ((x: Exchange) => Promise<Response>) | undefined;
  if (realtime) {
    const { FrameRules } = await import("./realtime/rules.ts");
    const { SessionBoard } = await import("./realtime/board.ts");
    const max = budgeted ? outputMax : own.body?.max_tokens;
    // Frames are read when something must be checked in them; otherwise they pass unread.
    const frameRules = own.body?.models || max !== undefined || own.body?.deny || jwt
      ? new FrameRules({ models: own.body?.models, max, deny: own.body?.deny })
      : undefined;
    socketLine = new Line<UpstreamVariables & ClientVariables & PlanVariables>()
      .then(realtime.socketStage({
        endpoints: sockets!,
        rules: frameRules,
        budgeted: Boolean(budgeted),
      }))
      .maybe(queueStage, () => queueStage!)
      .maybe(budgetStage, () => budgetStage!)
      .then(key)
      .end(realtime.socketHandler({
        dropHeaders: route.dropHeaders,
        headers: route.headers,
        inject: route.inject,
        timeoutMs: route.timeoutMs,
        rules: frameRules,
        usage: route.usage,
        budget: budgeted ? budgetSettings : undefined,
        outputMax: max ?? outputMax,
        board: context.sessions ?? new SessionBoard(),
      }));
  }
  const secretsStage = secrets
    ? (await import("./realtime/secrets.ts")).secretsStage({
      path: secrets,
      models: own.body?.models,
      budgeted: Boolean(budgeted),
    })
    : undefined;

  return new Line()
    .then(resolveStage(route))
    .then(
      await authStage(authConfig, context.auth, {
        route: route.name,
        readToken: route.readToken,
        authorize: hooks.authorize,
      }),
    )
    .then(allowStage(route.allow, route.name))
    .maybe(rules.pathStage, () => rules.pathStage!)
    .then(limitsStage(route.name, limits, store, queued, config.server?.admin !== undefined))
    .maybe(socketLine, () => realtime!.socketFork(sockets!, socketLine!, context.upgrades))
    .then(bodyStage({
      rules: rules.rules,
      modelRules: rules.modelRules,
      budget: context.bodyBudget,
      bodyTimeoutMs: context.bodyTimeoutMs,
      replay: pool !== undefined,
    }))
    .maybe(secretsStage, () => secretsStage!)
    .maybe(queueStage, () => queueStage!)
    .maybe(budgetStage, () => budgetStage!)
    .then(key)
    .end(forwardHandler({ ...route, pool, kinds: limits.spend || jwt }, context.fetch));
}
