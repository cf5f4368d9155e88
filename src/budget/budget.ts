/**
 * The budget stage, after the body stage: what can only be decided once the body is known.
 * A client token's `models` claim is checked against the body; its per-subject limits are
 * counted; token budgets (the route's and the token's) are reserved at the request's worst
 * case in one atomic store operation each, and settled to the reported usage when the request
 * ends; a single-use token is spent last, so a refused request does not burn it. It publishes
 * `reservation`: what it holds.
 *
 * Settling: reported usage replaces the reservation (the unused part goes back). An answer
 * that reports nothing keeps its reservation; one whose usage the meter estimated (a cut
 * stream) is charged the larger of the two, since the estimate cannot see reasoning tokens
 * while the reservation already bounds what the upstream may bill.
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import type { Grant } from "../auth/grant.ts";
import type { BodyVariables, BodyView } from "../body/body.ts";
import type { Rate } from "../config/units.ts";
import { DEFAULT_RULES_BODY_BYTES } from "../config/defaults.ts";
import type { Exchange } from "../exchange.ts";
import { type PlanVariables, retryAfter, SLOT_TTL_MS, storeDown } from "../limits/limits.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import type { LimitStore } from "../store/store.ts";

/** One amount held in a budget's window until the request ends. */
export interface Held {
  /** The budget's counter. */
  readonly key: string;
  /** What was reserved. */
  readonly amount: number;
  /** The budget's window. */
  readonly windowMs: number;
  /** The start of the window it was reserved in. */
  readonly window: number;
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
}

const NONE: readonly Held[] = [];
/** Gemini names the model in the path: `/v1beta/models/gemini-2.0-flash:generateContent`. */
const PATH_MODEL = /\/models\/([^/:]+)/;

/** Gives back reservations of a request that did not go ahead. */
function giveBack(store: LimitStore, held: readonly Held[]) {
  for (const h of held) void store.settle(h.key, -h.amount, h.windowMs, h.window).catch(() => {});
}

/** The request body's size for the input estimate (the most the route takes, when unknown). */
function bodySize(x: Exchange, body: BodyView, cap: number): number {
  const send = body.send;
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
 *
 * const path = "/v1/chat/completions";
 * const request = new Request(`http://gateway/openai${path}`, { method: "POST" });
 * const send = new TextEncoder().encode('{"model":"gpt-4o-mini","max_tokens":100}');
 * // with what the stages before it published: the client, its budget, the body it sends
 * const exchange = new Exchange(request, undefined, "req-1", "", `/openai${path}`, () => {});
 * const x = Object.assign(exchange, {
 *   client: { id: "alice", authenticated: true },
 *   plan: { tokens: { limit: 1000, windowMs: 86_400_000 } },
 *   body: { send, declared: false, facts: { output: 100 }, release() {} },
 *   upstream: { url: new URL(`https://api.openai.com${path}`), path },
 * });
 * const answer = await stage(x, ({ reservation }) => Promise.resolve(Response.json(reservation)));
 * const [held] = await answer.json();
 * assert.equal(held.amount, send.byteLength + 100); // the body's bytes and its output cap
 * ```
 */
export function budgetStage(
  settings: BudgetSettings,
): Stage<
  ClientVariables & PlanVariables & BodyVariables & UpstreamVariables,
  ReservationVariables
> {
  const { route, store, outputMax } = settings;
  return async (x, next) => {
    const grant = x.client.grant;
    const budget = x.plan.tokens;
    if (!grant && !budget) return next({ reservation: NONE });
    const client = x.client.id;
    const facts = x.body.facts;
    if (grant?.models) {
      const model = facts.model ?? PATH_MODEL.exec(x.upstream.path)?.[1];
      if (model === undefined || !grant.models.has(model)) {
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
    }
    const held: Held[] = [];
    try {
      if (grant?.limits) {
        const refused = await countGrant(x, grant, store);
        if (refused) return refused;
      }
      const grantTokens = grant?.limits?.tokens;
      if (budget || grantTokens) {
        const cap = x.plan.body ?? DEFAULT_RULES_BODY_BYTES;
        const amount = bodySize(x, x.body, cap) + (facts.output ?? outputMax);
        const wanted: [string, Rate][] = [];
        if (budget) wanted.push([`tokens:${route}:${client}`, budget]);
        if (grantTokens) wanted.push([`grant:tokens:${grant!.subject}`, grantTokens]);
        for (const [key, { limit, windowMs }] of wanted) {
          const got = await store.reserve(key, amount, limit, windowMs);
          if (!got.ok) {
            giveBack(store, held);
            held.length = 0;
            return x.refuse(
              "token_budget",
              `Token budget of ${limit} per window cannot hold this request ` +
                `(up to ${amount} tokens; ${Math.max(0, limit - got.count)} left)`,
              retryAfter(got.resetMs),
            );
          }
          held.push({ key, amount, windowMs, window: got.window });
        }
      }
      if (grant?.once && !(await store.claim(`once:${grant.once.id}`, grant.once.ttlMs))) {
        giveBack(store, held);
        held.length = 0;
        return x.refuse("grant_used", "The token was for one request and is used");
      }
    } catch (error) {
      giveBack(store, held);
      return storeDown(x, error);
    }
    if (held.length) x.onEnd(() => settle(store, held, x));
    return next({ reservation: held });
  };
}

/** Settles a request's reservations to what it used (see the module doc). */
function settle(store: LimitStore, held: readonly Held[], x: Exchange) {
  const charge = x.charge;
  if (!charge) return; // nothing reported: the reservation stands
  const total = charge.usage.total;
  for (const h of held) {
    const delta = charge.estimated ? Math.max(0, total - h.amount) : total - h.amount;
    if (delta !== 0) void store.settle(h.key, delta, h.windowMs, h.window).catch(() => {});
  }
}

/** Counts a token's per-subject request and concurrency limits; the refusal, if any. */
async function countGrant(
  x: Exchange,
  grant: Grant,
  store: LimitStore,
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
    const slot = await store.acquire(key, concurrent, SLOT_TTL_MS);
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
