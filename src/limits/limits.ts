/**
 * The limits stage: settles which limits apply to the request's client (the route's, or a
 * client's own from `clients`) and publishes them as `plan`; counts the request against its
 * window and takes an in-flight slot (given back when the request ends), for the client and
 * for the route's ceiling over all its clients (`limits.route`). Budgets in tokens and dollars
 * are reserved later, once the body is known (see `budget/`). Refusals are 429 with
 * `Retry-After`; requests let through carry `RateLimit-*` headers. If the store cannot be
 * reached the request is refused (503): a limit that fails open is no limit.
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import type { Exchange } from "../exchange.ts";
import type { HeaderRecord } from "../proxy/headers.ts";
import type { Stage } from "../stage.ts";
import type { LimitStore } from "../store/store.ts";
import { type LimitPlan, memberWindow, planFor, type RouteLimits } from "./plan.ts";
import { DEFAULT_SESSION_MS } from "../config/defaults.ts";
import { isWebSocketUpgrade } from "../websocket_handshake.ts";

/** What the limits stage publishes. */
export type PlanVariables = { plan: LimitPlan };

/** In-flight slots not given back after this long are presumed lost with their instance. */
export const SLOT_TTL_MS = 15 * 60_000;

/**
 * How long the in-flight slot of `x` may be held before it is presumed lost: a WebSocket
 * session holds its slot while it is open, up to its `limits.session` (an hour by default), so
 * its slot outlives that by a minute; any other request's, {@linkcode SLOT_TTL_MS}.
 *
 * @example
 * ```ts
 * import { slotTtl, SLOT_TTL_MS } from "./limits.ts";
 *
 * const plain = new Request("http://gateway/openai/v1/models");
 * if (slotTtl(plain, {}) !== SLOT_TTL_MS) throw new Error("a request's slot");
 * const socket = new Request("http://gateway/openai/v1/realtime", {
 *   headers: { upgrade: "websocket" },
 * });
 * if (slotTtl(socket, { session: 600_000 }) !== 660_000) throw new Error("a session's slot");
 * ```
 */
export function slotTtl(request: Request, plan: LimitPlan): number {
  if (!isWebSocketUpgrade(request.headers)) return SLOT_TTL_MS;
  return (plan.session ?? DEFAULT_SESSION_MS) + 60_000;
}

/** A `Retry-After` of at least a second for a wait of `ms`. */
export function retryAfter(ms: number): HeaderRecord {
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) };
}

/** The answer when the store cannot be reached: 503, never a pass (a limit that fails open is none). */
export function storeDown(x: Exchange, error: unknown): Response {
  return x.refuse(
    "store_unavailable",
    "The limit store cannot be reached",
    undefined,
    undefined,
    (error as Error).name,
  );
}

function rateHeaders(limit: number, remaining: number, resetMs: number, windowMs: number) {
  return {
    "ratelimit-limit": String(limit),
    "ratelimit-remaining": String(Math.max(0, remaining)),
    "ratelimit-reset": retryAfter(resetMs)["retry-after"],
    "ratelimit-policy": `${limit};w=${Math.round(windowMs / 1000)}`,
  };
}

/**
 * Compiles a route's limits stage over `store`. `queued` leaves the in-flight slot to the
 * queue stage (`limits.queue`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { MemoryStore } from "../store/memory.ts";
 * import { limitsStage } from "./limits.ts";
 * import { compileLimits } from "./plan.ts";
 *
 * const limits = compileLimits({ requests: { limit: 1, windowMs: 60_000 } }, []);
 * const stage = limitsStage("openai", limits, new MemoryStore());
 *
 * const client = { id: "alice", authenticated: true };
 * const send = () => {
 *   const request = new Request("http://gateway/openai/v1/models");
 *   const x = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 *   return stage(Object.assign(x, { client }), () => Promise.resolve(new Response("ok")));
 * };
 * assert.equal((await send()).status, 200);
 * const refused = await send(); // the second request in the window
 * assert.equal(refused.status, 429);
 * assert.ok(refused.headers.has("retry-after"));
 * ```
 */
export function limitsStage(
  route: string,
  limits: RouteLimits,
  store: LimitStore,
  queued = false,
  noteClients = false,
): Stage<ClientVariables, PlanVariables> {
  if (!limits.counted) {
    // Nothing to count: the plan is all (its body cap, its budgets).
    return (x, next) => next({ plan: planFor(limits, x.client.id, x.client.authenticated) });
  }
  const ceiling = limits.ceiling;
  // Who called in the window, for the status page's admin view (only a gateway with one).
  const members = noteClients ? memberWindow(limits) : 0;
  const clients = `clients:${route}`;
  return async (x, next) => {
    const client = x.client.id;
    const plan = planFor(limits, client, x.client.authenticated);
    if (members) void store.note(clients, client, members).catch(() => {});
    const id = `${route}:${client}`;
    let headers: Record<string, string> | undefined;
    try {
      if (plan.requests) {
        const { limit, windowMs } = plan.requests;
        const { count, resetMs } = await store.add(`requests:${id}`, 1, windowMs);
        headers = rateHeaders(limit, limit - count, resetMs, windowMs);
        if (count > limit) {
          return x.refuse("request_limit", `Limit of ${limit} requests per window reached`, {
            ...headers,
            ...retryAfter(resetMs),
          });
        }
      }
      // The route's ceiling counts only requests their client's own limit let through: one
      // client hammering past its own limit cannot spend everyone's ceiling.
      if (ceiling?.requests) {
        const { limit, windowMs } = ceiling.requests;
        const { ok, resetMs } = await store.reserve(`requests:${route}`, 1, limit, windowMs);
        if (!ok) {
          return x.refuse(
            "request_limit",
            `Route ${route} has reached its limit of ${limit} requests per window`,
            retryAfter(resetMs),
            undefined,
            "route",
          );
        }
      }
      // With `limits.queue`, the queue stage takes the slot (after the body: it knows a stream).
      if (plan.concurrent && !queued) {
        const key = `concurrent:${id}`;
        const slot = await store.acquire(key, plan.concurrent, slotTtl(x.request, plan));
        if (slot === undefined) {
          return x.refuse(
            "concurrency_limit",
            `Limit of ${plan.concurrent} requests in flight reached`,
            retryAfter(1000),
          );
        }
        x.onEnd(() => void store.release(key, slot).catch(() => {}));
      }
      if (ceiling?.concurrent && !queued) {
        const key = `concurrent:${route}`;
        const slot = await store.acquire(key, ceiling.concurrent, slotTtl(x.request, plan));
        if (slot === undefined) {
          return x.refuse(
            "concurrency_limit",
            `Route ${route} has reached its limit of ${ceiling.concurrent} requests in flight`,
            retryAfter(1000),
            undefined,
            "route",
          );
        }
        x.onEnd(() => void store.release(key, slot).catch(() => {}));
      }
    } catch (error) {
      return storeDown(x, error);
    }
    if (headers) Object.assign(x.headers, headers);
    return next({ plan });
  };
}
