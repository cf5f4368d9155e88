/**
 * The limits rule: per client and route, a request budget per window and a cap on requests
 * in flight. (Token budgets are reserved after the body rules, by the spend rule.) Refusals are 429 with `Retry-After`; allowed requests carry
 * `RateLimit-*` headers. If the store cannot be reached the request is refused (503): a limit
 * that fails open is no limit.
 *
 * @module
 */
import type { Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import type { LimitStore } from "../store/store.ts";
import { planFor, type RouteLimits } from "./plan.ts";

/** In-flight slots not given back after this long are presumed lost with their instance. */
export const SLOT_TTL_MS = 15 * 60_000;

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function limited(message: string, retryMs: number, extra: Record<string, string> = {}) {
  return errorResponse("rate_limited", message, { "retry-after": seconds(retryMs), ...extra });
}

function rateHeaders(limit: number, remaining: number, resetMs: number, windowMs: number) {
  return {
    "ratelimit-limit": String(limit),
    "ratelimit-remaining": String(Math.max(0, remaining)),
    "ratelimit-reset": seconds(resetMs),
    "ratelimit-policy": `${limit};w=${Math.round(windowMs / 1000)}`,
  };
}

/**
 * Compiles a route's limits into a rule over `store`. Runs after auth, so the client is known.
 * `queued` leaves the in-flight slot to the queue rule (`limits.queue`).
 *
 * @example
 * ```ts
 * chain.push(limitsRule("openai", compileLimits(route.limits, clients), openStore(undefined)));
 * ```
 */
export function limitsRule(
  routeName: string,
  limits: RouteLimits,
  store: LimitStore,
  queued = false,
): Rule {
  return async (c, next) => {
    const state = c.get("state");
    const client = state.record.client ?? "unknown";
    const plan = planFor(limits, client, state.authenticated === true);
    state.plan = plan;
    const id = `${routeName}:${client}`;
    let headers: Record<string, string> | undefined;
    try {
      if (plan.requests) {
        const { limit, windowMs } = plan.requests;
        const { count, resetMs } = await store.add(`requests:${id}`, 1, windowMs);
        headers = rateHeaders(limit, limit - count, resetMs, windowMs);
        if (count > limit) {
          state.record.error = "request limit";
          return limited(`Limit of ${limit} requests per window reached`, resetMs, headers);
        }
      }
      // With `limits.queue`, the queue rule takes the slot (after the body, so it knows a stream).
      if (plan.concurrent && !queued) {
        const key = `concurrent:${id}`;
        const slot = await store.acquire(key, plan.concurrent, SLOT_TTL_MS);
        if (slot === undefined) {
          state.record.error = "concurrency limit";
          return limited(`Limit of ${plan.concurrent} requests in flight reached`, 1000);
        }
        state.finally.push(() => void store.release(key, slot).catch(() => {}));
      }
    } catch (error) {
      state.record.error = `limit store unavailable: ${(error as Error).name}`;
      return errorResponse("store_unavailable", "The limit store cannot be reached");
    }
    if (headers) Object.assign(state.headers, headers);
    await next();
  };
}
