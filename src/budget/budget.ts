/**
 * The budget stage, after the body stage: what can only be decided once the body is known.
 * A client token's `models` claim is checked against the body; its per-subject limits are
 * counted; then every budget the request falls under, in tokens and in dollars (the client's,
 * the route's ceiling over all its clients, the client token's), is reserved at the request's
 * worst case, each in one atomic store operation, and settled to what the upstream reports
 * when the request ends. A single-use token is spent last, so a refused request does not burn
 * it. It publishes `reservation`: what it holds.
 *
 * The worst case: the input as the provider counts it (see `worst_case.ts`) plus the most
 * output the body allows, in tokens; in dollars, that at the model's prices. A request on a
 * dollar budget that names a model with no price is refused (400) before anything leaves: its
 * cost cannot be bounded. One that names no model and generates nothing (a listing) is free.
 *
 * Settling: reported usage replaces the reservation (the unused part goes back). An answer
 * that reports nothing keeps its reservation; one whose usage the meter estimated (a cut
 * stream) is charged the larger of the two, since the estimate cannot see reasoning tokens
 * while the reservation already bounds what the upstream may bill.
 *
 * @module
 */
import { pathModel } from "../config/presets/gemini.ts";
import type { ClientVariables } from "../auth/auth.ts";
import type { Grant } from "../auth/grant.ts";
import type { BodyVariables } from "../body/body.ts";
import { DEFAULT_RULES_BODY_BYTES } from "../config/defaults.ts";
import type { RouteCeilingConfig } from "../config/types.ts";
import type { Rate } from "../config/units.ts";
import type { Exchange } from "../exchange.ts";
import { type PlanVariables, retryAfter, slotTtl, storeDown } from "../limits/limits.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import { formatUsd } from "../usd.ts";
import type { LimitStore } from "../store/store.ts";
import type { BudgetWatch } from "./standing.ts";
import type { Bounder, ModelPricing, Pricing, RequestBound } from "./worst_case.ts";

/** Which budget an amount is held in. */
export type Kind = "tokens" | "spend";

/** One amount held in a budget's window until the request ends. */
export interface Held {
  /** The budget's counter. */
  readonly key: string;
  /** What it counts. */
  readonly kind: Kind;
  /** What was reserved (tokens, or units of 1e-8 USD). */
  readonly amount: number;
  /** The budget per window. */
  readonly limit: number;
  /** The budget's window. */
  readonly windowMs: number;
  /** The start of the window it was reserved in. */
  readonly window: number;
  /** The client it belongs to, or null for the route's ceiling (alerts). */
  readonly client: string | null;
}

/** What the budget stage publishes: the amounts it holds (none when nothing is budgeted). */
export type ReservationVariables = { reservation: readonly Held[] };

/** What the budget stage of a route needs. */
export interface BudgetSettings {
  /** The route's name (counter keys). */
  route: string;
  /** Where counters live. */
  store: LimitStore;
  /** The output maximum of a request whose body sets none (the route's clamp). */
  outputMax: number;
  /** How the upstream reads bodies and reports usage (`usage:` or the preset's). */
  format?: "openai" | "anthropic" | "gemini";
  /** The route's ceiling over all its clients (`limits.route`). */
  ceiling?: RouteCeilingConfig;
  /** Bounds a request's worst case (a route with token or dollar budgets has one). */
  bound?: Bounder;
  /** Prices by model (a route that counts dollars, or that must know a context window). */
  pricing?: Pricing;
  /** Hears each budget's standing after a change (`server.alerts`). */
  watch?: BudgetWatch;
}

const NONE: readonly Held[] = [];
/** One budget a request falls under. */
export interface Wanted {
  key: string;
  kind: Kind;
  rate: Rate;
  client: string | null;
  /** How a refusal names it. */
  whose: string;
}

/** Gives back reservations of a request that did not go ahead. */
function giveBack(store: LimitStore, held: readonly Held[]) {
  for (const h of held) void store.settle(h.key, -h.amount, h.windowMs, h.window).catch(() => {});
}

/** The request body's size, for a bound when the body was not read. */
function bodySize(x: Exchange & BodyVariables, cap: number): number {
  const send = x.body.send;
  if (send instanceof Uint8Array) return send.byteLength;
  if (send === null) return 0;
  const declared = x.request.headers.get("content-length");
  if (declared !== null && Number.isSafeInteger(Number(declared))) return Number(declared);
  return cap;
}

/**
 * Compiles a route's budget stage. It runs after the body stage, so the body it reads is the
 * one that will be sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { MemoryStore } from "../store/memory.ts";
 * import { budgetStage } from "./budget.ts";
 *
 * const stage = budgetStage({ route: "openai", store: new MemoryStore(), outputMax: 4096 });
 * const send = new TextEncoder().encode('{"model":"gpt-4o-mini","max_tokens":100}');
 * const request = new Request("http://gateway/openai/v1/chat/completions", { method: "POST" });
 * const exchange = new Exchange(request, undefined, "req-1", "", "/openai/v1/chat/completions", () => {});
 * // with what the stages before it published
 * const x = Object.assign(exchange, {
 *   client: { id: "alice", authenticated: true },
 *   plan: { tokens: { limit: 10_000, windowMs: 86_400_000 } },
 *   body: { send, declared: false, generates: true, facts: { output: 100 }, release() {} },
 *   upstream: { url: new URL("https://api.openai.com/v1/chat/completions"), path: "/v1/chat/completions" },
 * });
 * const answer = await stage(x, ({ reservation }) => Promise.resolve(Response.json(reservation)));
 * const [held] = await answer.json();
 * assert.equal(held.amount, send.byteLength + 100); // without a bound: the body's bytes and its cap
 * ```
 */
export function budgetStage(
  settings: BudgetSettings,
): Stage<
  ClientVariables & PlanVariables & BodyVariables & UpstreamVariables,
  ReservationVariables
> {
  const { route, store, outputMax, ceiling, bound, pricing, watch, format } = settings;
  return async (x, next) => {
    const grant = x.client.grant;
    const client = x.client.id;
    const wanted = budgetsOf(route, client, x.plan, ceiling, grant);
    if (!grant && wanted.length === 0) return next({ reservation: NONE });
    const facts = x.body.facts;
    const model = facts.model ?? pathModel(x.upstream.path);
    // A session that names its model in a frame has it checked there (src/realtime/).
    const later = model === undefined && x.body.framed === true;
    if (grant?.models && !later && (model === undefined || !grant.models.has(model))) {
      return x.refuse(
        "grant_refused",
        model === undefined
          ? "The token allows named models only, and the request names none"
          : `The token does not allow model ${model}`,
        undefined,
        undefined,
        "model",
      );
    }
    let worst: { tokens: number; cost: number; price?: ModelPricing } | undefined;
    if (wanted.length) {
      const outcome = await worstCase(x, { model, outputMax, bound, pricing, format }, wanted);
      if (outcome instanceof Response) return outcome;
      worst = outcome;
    }
    const held: Held[] = [];
    try {
      if (grant?.limits) {
        const refused = await countGrant(x, grant, store, slotTtl(x.request, x.plan));
        if (refused) return refused;
      }
      for (const budget of wanted) {
        const amount = budget.kind === "tokens" ? worst!.tokens : worst!.cost;
        if (amount === 0) continue;
        const { limit, windowMs } = budget.rate;
        const got = await store.reserve(budget.key, amount, limit, windowMs);
        if (!got.ok) {
          giveBack(store, held);
          return refusal(x, budget, amount, got.count, got.resetMs);
        }
        const h = {
          key: budget.key,
          kind: budget.kind,
          amount,
          limit,
          windowMs,
          window: got.window,
          client: budget.client,
        };
        held.push(h);
        watch?.note({
          route,
          client: h.client,
          limit: h.kind,
          key: h.key,
          used: got.count,
          budget: limit,
          window: h.window,
          windowMs,
        });
      }
      if (grant?.once && !(await store.claim(`once:${grant.once.id}`, grant.once.ttlMs))) {
        giveBack(store, held);
        return x.refuse("grant_used", "The token was for one request and is used");
      }
    } catch (error) {
      giveBack(store, held);
      return storeDown(x, error);
    }
    if (held.length) x.onEnd(() => settle(store, held, x, worst!, route, watch));
    return next({ reservation: held });
  };
}

/**
 * The budgets a request falls under: the client's, the route's, its token's (a realtime
 * session is charged to the same ones, response by response: see `session.ts`).
 */
export function budgetsOf(
  route: string,
  client: string,
  plan: PlanVariables["plan"],
  ceiling: RouteCeilingConfig | undefined,
  grant: Grant | undefined,
): Wanted[] {
  const wanted: Wanted[] = [];
  const subject = grant?.subject;
  if (plan.tokens) {
    wanted.push({
      key: `tokens:${route}:${client}`,
      kind: "tokens",
      rate: plan.tokens,
      client,
      whose: "Token budget",
    });
  }
  if (plan.spend) {
    wanted.push({
      key: `spend:${route}:${client}`,
      kind: "spend",
      rate: plan.spend,
      client,
      whose: "Spend budget",
    });
  }
  if (ceiling?.tokens) {
    wanted.push({
      key: `tokens:${route}`,
      kind: "tokens",
      rate: ceiling.tokens,
      client: null,
      whose: `Route ${route}'s token budget`,
    });
  }
  if (ceiling?.spend) {
    wanted.push({
      key: `spend:${route}`,
      kind: "spend",
      rate: ceiling.spend,
      client: null,
      whose: `Route ${route}'s spend budget`,
    });
  }
  if (grant?.limits?.tokens) {
    wanted.push({
      key: `grant:tokens:${subject}`,
      kind: "tokens",
      rate: grant.limits.tokens,
      client,
      whose: "Token budget",
    });
  }
  if (grant?.limits?.spend) {
    wanted.push({
      key: `grant:spend:${subject}`,
      kind: "spend",
      rate: grant.limits.spend,
      client,
      whose: "Spend budget",
    });
  }
  return wanted;
}

interface WorstOptions {
  model?: string;
  outputMax: number;
  bound?: Bounder;
  pricing?: Pricing;
  format?: "openai" | "anthropic" | "gemini";
}

/**
 * The request's worst case in tokens and, when it falls under a dollar budget, in dollars at
 * its model's prices; or the refusal when that cannot be bounded.
 */
async function worstCase(
  x: Exchange & BodyVariables & UpstreamVariables & PlanVariables,
  options: WorstOptions,
  wanted: readonly Wanted[],
): Promise<{ tokens: number; cost: number; price?: ModelPricing } | Response> {
  const { model, pricing } = options;
  const spends = wanted.some((w) => w.kind === "spend");
  const outputCap = x.body.facts.output ?? options.outputMax;
  const send = x.body.send;
  let bound: RequestBound;
  if (options.bound && options.format && send instanceof Uint8Array && send.byteLength > 0) {
    bound = await options.bound(send, {
      format: options.format,
      path: x.upstream.path,
      model,
      outputCap,
    });
  } else {
    // Not a JSON body the bound reads: its bytes bound its tokens (a token is at least a byte).
    const text = bodySize(x, x.plan.body ?? DEFAULT_RULES_BODY_BYTES);
    const output = x.body.generates ? outputCap : 0;
    bound = {
      input: { text, audio: 0 },
      output: { tokens: output, audio: false },
      tokens: text + output,
    };
  }
  // A price is looked up only where it is read: dollars, or the context window of input
  // that cannot be bounded.
  const price = model !== undefined && (spends || bound.input.unbounded)
    ? pricing?.lookup(model)
    : undefined;
  if (bound.input.unbounded) {
    const window = price?.contextWindow;
    if (window === undefined) {
      return x.refuse(
        "body_refused",
        "The request's input cannot be bounded (it names stored content) and its model's " +
          "context window is unknown: a budget cannot hold it",
      );
    }
    bound = {
      ...bound,
      input: { ...bound.input, text: window },
      tokens: window + bound.input.audio + bound.output.tokens,
    };
  }
  if (!spends) return { tokens: bound.tokens, cost: 0, price };
  if (model === undefined) {
    if (!x.body.generates) return { tokens: bound.tokens, cost: 0 };
    return x.refuse(
      "body_refused",
      "This route counts dollars: the request must name its model",
    );
  }
  if (!price) {
    return x.refuse(
      "body_refused",
      `Model ${model} has no price: add it under prices: in the config`,
      undefined,
      undefined,
      `unpriced ${model}`,
    );
  }
  return { tokens: bound.tokens, cost: price.worst(bound), price };
}

/** The 429 for a budget that cannot hold the request, in its own unit. */
function refusal(
  x: Exchange,
  budget: Wanted,
  amount: number,
  count: number,
  resetMs: number,
): Response {
  const { limit } = budget.rate;
  const left = Math.max(0, limit - count);
  const message = budget.kind === "tokens"
    ? `${budget.whose} of ${limit} per window cannot hold this request ` +
      `(up to ${amount} tokens; ${left} left)`
    : `${budget.whose} of ${formatUsd(limit)} per window cannot hold this request: it could ` +
      `cost up to ${formatUsd(amount, "up")}; ${formatUsd(left, "down")} of ${
        formatUsd(limit)
      } left`;
  return budgetRefusal(x, budget, message, resetMs);
}

/**
 * The 429 of a spent budget: coded by its unit, with `Retry-After` at the window's end and
 * `route` as the whose of a route-wide budget.
 */
export function budgetRefusal(
  x: Exchange,
  budget: Pick<Wanted, "kind" | "client">,
  message: string,
  resetMs: number,
): Response {
  return x.refuse(
    budget.kind === "tokens" ? "token_budget" : "spend_budget",
    message,
    retryAfter(resetMs),
    undefined,
    budget.client === null ? "route" : undefined,
  );
}

/** Settles a request's reservations to what it used (see the module doc). */
function settle(
  store: LimitStore,
  held: readonly Held[],
  x: Exchange,
  worst: { tokens: number; cost: number; price?: ModelPricing },
  route: string,
  watch: BudgetWatch | undefined,
) {
  const charge = x.charge;
  const spends = held.some((h) => h.kind === "spend");
  if (!charge) {
    // Nothing reported: the reservation stands, and is what the request cost.
    if (spends) x.cost = worst.cost;
    return;
  }
  const tokens = charge.usage.total;
  const cost = spends && worst.price ? worst.price.cost(charge.usage) : 0;
  const used = (kind: Kind, amount: number) => {
    const actual = kind === "tokens" ? tokens : cost;
    return charge.estimated ? Math.max(actual, amount) : actual;
  };
  if (spends) {
    const spend = held.find((h) => h.kind === "spend")!;
    x.cost = used("spend", spend.amount);
  }
  for (const h of held) {
    const delta = used(h.kind, h.amount) - h.amount;
    if (delta === 0 && !watch) continue;
    void store.settle(h.key, delta, h.windowMs, h.window).then(async () => {
      if (!watch) return;
      const { count } = await store.read(h.key, h.windowMs);
      await watch.note({
        route,
        client: h.client,
        limit: h.kind,
        key: h.key,
        used: count,
        budget: h.limit,
        window: h.window,
        windowMs: h.windowMs,
      });
    }).catch(() => {});
  }
}

/** Counts a token's per-subject request and concurrency limits; the refusal, if any. */
async function countGrant(
  x: Exchange,
  grant: Grant,
  store: LimitStore,
  ttlMs: number,
): Promise<Response | undefined> {
  const { requests, concurrent } = grant.limits!;
  const subject = grant.subject;
  if (requests) {
    const { limit, windowMs } = requests;
    const { count, resetMs } = await store.add(`grant:requests:${subject}`, 1, windowMs);
    if (count > limit) {
      return x.refuse(
        "request_limit",
        `The token's limit of ${limit} requests per window is reached`,
        retryAfter(resetMs),
        undefined,
        "token",
      );
    }
  }
  if (concurrent) {
    const key = `grant:concurrent:${subject}`;
    const slot = await store.acquire(key, concurrent, ttlMs);
    if (slot === undefined) {
      return x.refuse(
        "concurrency_limit",
        `The token's limit of ${concurrent} requests in flight is reached`,
        retryAfter(1000),
        undefined,
        "token",
      );
    }
    x.onEnd(() => void store.release(key, slot).catch(() => {}));
  }
  return undefined;
}
