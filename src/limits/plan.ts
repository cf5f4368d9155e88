/**
 * Which limits apply to a request: the route's, or a client's own from `clients` when an
 * authenticated client has them; and the route's ceiling for all its clients together
 * (`limits.route`). Plans are merged once, at load.
 *
 * @module
 */
import type { ClientConfig, LimitsConfig, RouteCeilingConfig } from "../config/types.ts";
import type { Rate } from "../config/units.ts";

/** The limits one client has on one route. */
export interface LimitPlan {
  /** Requests per window. */
  readonly requests?: Rate;
  /** Upstream-reported tokens per window. */
  readonly tokens?: Rate;
  /** Dollars per window, in units of 1e-8 USD. */
  readonly spend?: Rate;
  /** Requests in flight at once. */
  readonly concurrent?: number;
  /** Request body cap in bytes (and, on a WebSocket session, the largest client frame). */
  readonly body?: number;
  /** The longest a WebSocket session stays open, in ms. */
  readonly session?: number;
}

/** A route's limit plans. */
export interface RouteLimits {
  /** The route's own plan (every client without an override, and every `auth: none` IP). */
  readonly base: LimitPlan;
  /** Plans of the clients that override the route's. */
  readonly byClient: ReadonlyMap<string, LimitPlan>;
  /** The ceiling for all clients of the route together (`limits.route`), when set. */
  readonly ceiling?: RouteCeilingConfig;
  /** Whether any plan, or the ceiling, counts requests or concurrency (the store is needed). */
  readonly counted: boolean;
  /** Whether any plan caps the body. */
  readonly capped: boolean;
  /** Whether any plan, or the ceiling, counts tokens. */
  readonly tokens: boolean;
  /** Whether any plan, or the ceiling, counts dollars. */
  readonly spend: boolean;
}

function plan(
  limits: LimitsConfig | undefined,
): { -readonly [K in keyof LimitPlan]: LimitPlan[K] } {
  return {
    requests: limits?.requests,
    tokens: limits?.tokens,
    spend: limits?.spend,
    concurrent: limits?.concurrent,
    body: limits?.body,
    session: limits?.session,
  };
}

/**
 * Merges a route's limits with each client's overrides (a client's value replaces the
 * route's, field by field). Client token and spend budgets apply only where `reportsUsage`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileLimits } from "./plan.ts";
 *
 * const clients = [{ id: "alice", token: "t", limits: { requests: { limit: 600, windowMs: 60_000 } } }];
 * const limits = compileLimits({ requests: { limit: 60, windowMs: 60_000 } }, clients);
 * assert.equal(limits.byClient.get("alice")?.requests?.limit, 600); // alice's own rate
 * assert.equal(limits.base.requests?.limit, 60); // everyone else's
 * ```
 */
export function compileLimits(
  route: (LimitsConfig & { route?: RouteCeilingConfig }) | undefined,
  clients: readonly ClientConfig[],
  reportsUsage = true,
): RouteLimits {
  const base = plan(route);
  const byClient = new Map<string, LimitPlan>();
  for (const client of clients) {
    if (!client.limits) continue;
    const own = plan(client.limits);
    // A budget needs usage to charge; on a route that reports none it cannot apply.
    if (!reportsUsage) {
      own.tokens = undefined;
      own.spend = undefined;
    }
    byClient.set(client.id, {
      requests: own.requests ?? base.requests,
      tokens: own.tokens ?? base.tokens,
      spend: own.spend ?? base.spend,
      concurrent: own.concurrent ?? base.concurrent,
      body: own.body ?? base.body,
      session: own.session ?? base.session,
    });
  }
  const plans = [base, ...byClient.values()];
  const ceiling = route?.route;
  return {
    base,
    byClient,
    ceiling,
    counted: plans.some((p) => p.requests || p.concurrent) ||
      ceiling?.requests !== undefined || ceiling?.concurrent !== undefined ||
      plans.some((p) => p.tokens || p.spend),
    capped: plans.some((p) => p.body !== undefined),
    tokens: plans.some((p) => p.tokens) || ceiling?.tokens !== undefined,
    spend: plans.some((p) => p.spend) || ceiling?.spend !== undefined,
  };
}

/** The plan for a client: its own when it is authenticated and has one, else the route's. */
export function planFor(limits: RouteLimits, client: string, authenticated: boolean): LimitPlan {
  return (authenticated && limits.byClient.get(client)) || limits.base;
}

/**
 * The window in which a route notes who calls it (for the admin view): its longest limit's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileLimits, memberWindow } from "./plan.ts";
 *
 * const limits = compileLimits({ requests: { limit: 60, windowMs: 60_000 }, tokens: { limit: 1000, windowMs: 86_400_000 } }, []);
 * assert.equal(memberWindow(limits), 86_400_000);
 * ```
 */
export function memberWindow(limits: RouteLimits): number {
  let longest = 60_000;
  for (const plan of [limits.base, ...limits.byClient.values(), limits.ceiling ?? {}]) {
    for (const rate of [plan.requests, plan.tokens, plan.spend]) {
      if (rate && rate.windowMs > longest) longest = rate.windowMs;
    }
  }
  return longest;
}
