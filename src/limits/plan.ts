/**
 * Which limits apply to a request: the route's, or a client's own from `clients` when an
 * authenticated client has them. Plans are merged once, at load.
 *
 * @module
 */
import type { ClientConfig, LimitsConfig } from "../config/types.ts";
import type { Rate } from "../config/units.ts";

/** The limits one client has on one route. */
export interface LimitPlan {
  /** Requests per window. */
  readonly requests?: Rate;
  /** Upstream-reported tokens per window. */
  readonly tokens?: Rate;
  /** Requests in flight at once. */
  readonly concurrent?: number;
  /** Request body cap in bytes. */
  readonly body?: number;
}

/** A route's limit plans. */
export interface RouteLimits {
  /** The route's own plan (every client without an override, and every `auth: none` IP). */
  readonly base: LimitPlan;
  /** Plans of the clients that override the route's. */
  readonly byClient: ReadonlyMap<string, LimitPlan>;
  /** Whether any plan limits requests, tokens or concurrency (the store is needed). */
  readonly counted: boolean;
  /** Whether any plan caps the body. */
  readonly capped: boolean;
  /** Whether any plan counts tokens. */
  readonly tokens: boolean;
}

function plan(
  limits: LimitsConfig | undefined,
): { -readonly [K in keyof LimitPlan]: LimitPlan[K] } {
  return {
    requests: limits?.requests,
    tokens: limits?.tokens,
    concurrent: limits?.concurrent,
    body: limits?.body,
  };
}

/**
 * Merges a route's limits with each client's overrides (a client's value replaces the
 * route's, field by field). Client token budgets apply only where `reportsUsage`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileLimits, planFor } from "./plan.ts";
 *
 * const own = { requests: { limit: 600, windowMs: 60_000 } };
 * const clients = [{ id: "alice", token: "s3cret", limits: own }];
 * const limits = compileLimits({ requests: { limit: 60, windowMs: 60_000 } }, clients);
 * assert.equal(planFor(limits, "alice", true).requests?.limit, 600); // alice's own rate
 * assert.equal(planFor(limits, "203.0.113.7", false).requests?.limit, 60); // the route's
 * ```
 */
export function compileLimits(
  route: LimitsConfig | undefined,
  clients: readonly ClientConfig[],
  reportsUsage = true,
): RouteLimits {
  const base = plan(route);
  const byClient = new Map<string, LimitPlan>();
  for (const client of clients) {
    if (!client.limits) continue;
    const own = plan(client.limits);
    // A token budget needs usage to charge; on a route that reports none it cannot apply.
    if (!reportsUsage) own.tokens = undefined;
    byClient.set(client.id, {
      requests: own.requests ?? base.requests,
      tokens: own.tokens ?? base.tokens,
      concurrent: own.concurrent ?? base.concurrent,
      body: own.body ?? base.body,
    });
  }
  const plans = [base, ...byClient.values()];
  return {
    base,
    byClient,
    counted: plans.some((p) => p.requests || p.tokens || p.concurrent),
    capped: plans.some((p) => p.body !== undefined),
    tokens: plans.some((p) => p.tokens),
  };
}

/** The plan for a client: its own when it is authenticated and has one, else the route's. */
export function planFor(limits: RouteLimits, client: string, authenticated: boolean): LimitPlan {
  return (authenticated && limits.byClient.get(client)) || limits.base;
}
