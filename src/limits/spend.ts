/**
 * The spend rule, after the body rules: what can only be decided once the body is known.
 * A client token's `models` claim is checked against the body; its per-subject limits are
 * counted; token budgets (the route's and the token's) are reserved at the request's worst
 * case in one atomic store operation each, and settled to the reported usage when the answer
 * ends; a single-use token is spent last, so a refused request does not burn it.
 *
 * Settling: reported usage replaces the reservation (the unused part goes back). An answer
 * that reports nothing keeps its reservation; one whose usage the meter estimated (a cut
 * stream) is charged the larger of the two, since the estimate cannot see reasoning tokens
 * while the reservation already bounds what the upstream may bill.
 *
 * @module
 */
import type { Grant } from "../auth/grant.ts";
import { DEFAULT_RULES_BODY_BYTES } from "../body/rule.ts";
import type { RequestState, Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import type { LimitStore } from "../store/store.ts";
import type { Rate } from "../config/units.ts";
import { planFor, type RouteLimits } from "./plan.ts";
import { bodyFacts, inputBytes } from "./reserve.ts";
import { SLOT_TTL_MS } from "./rule.ts";

/** What the spend rule of a route needs. */
export interface SpendOptions {
  /** The route's name (counter keys). */
  route: string;
  /** The route's limits. */
  limits: RouteLimits;
  /** Where counters live. */
  store: LimitStore;
  /** The output maximum of a request whose body sets none (the route's clamp). */
  outputMax: number;
}

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function limited(message: string, retryMs: number, extra: Record<string, string> = {}) {
  return errorResponse("rate_limited", message, { "retry-after": seconds(retryMs), ...extra });
}

interface Held {
  key: string;
  amount: number;
  windowMs: number;
  window: number;
}

/** Gives back reservations of a request that did not go ahead. */
function giveBack(store: LimitStore, held: readonly Held[]) {
  for (const h of held) void store.settle(h.key, -h.amount, h.windowMs, h.window).catch(() => {});
}

/**
 * Compiles a route's spend rule. Runs after the body rules, so the body it reads is the one
 * that will be sent.
 *
 * @example
 * ```ts
 * chain.push(spendRule({ route: "openai", limits, store, outputMax: 4096 }));
 * ```
 */
export function spendRule(options: SpendOptions): Rule {
  const { route, limits, store, outputMax } = options;
  return async (c, next) => {
    const state = c.get("state");
    const grant = state.grant;
    const client = state.record.client ?? "unknown";
    const plan = state.plan ?? planFor(limits, client, state.authenticated === true);
    const budget = plan.tokens;
    if (!grant && !budget) return await next();
    const request = c.req.raw;
    if (grant?.models && !(state.body instanceof Uint8Array) && hasBody(request)) {
      // A token that names models needs the body's: read it now (no route rule did).
      const cap = plan.body ?? DEFAULT_RULES_BODY_BYTES;
      // A body the body rule capped is its stream now; the request's own is locked.
      const source = state.body instanceof ReadableStream ? state.body : request.body!;
      const bytes = await readWithin(request, source, cap);
      if (!bytes) {
        state.record.error = "token grant: body unreadable";
        return errorResponse(
          "invalid_request",
          `The request body could not be read within ${cap} bytes`,
        );
      }
      state.body = bytes;
      state.record.bytes_in = bytes.byteLength;
    }
    const facts = state.body instanceof Uint8Array ? bodyFacts(state.body) : {};
    if (grant?.models) {
      const model = facts.model ?? /\/models\/([^/:]+)/.exec(state.upstreamPath ?? "")?.[1];
      if (model === undefined || !grant.models.has(model)) {
        state.record.error = "token grant: model";
        return errorResponse(
          "forbidden",
          model === undefined
            ? "The token allows named models only, and the request names none"
            : `The token does not allow model ${model}`,
        );
      }
    }
    const held: Held[] = [];
    try {
      if (grant?.limits) {
        const refused = await countGrant(grant, store, state);
        if (refused) return refused;
      }
      const tokensBudget = budget;
      const grantTokens = grant?.limits?.tokens;
      if (tokensBudget || grantTokens) {
        const cap = plan.body ?? DEFAULT_RULES_BODY_BYTES;
        const amount = inputBytes(request, state.body, cap) + (facts.output ?? outputMax);
        const wanted: [string, Rate][] = [];
        if (tokensBudget) wanted.push([`tokens:${route}:${client}`, tokensBudget]);
        if (grantTokens) wanted.push([`grant:tokens:${grant!.subject}`, grantTokens]);
        for (const [key, { limit, windowMs }] of wanted) {
          const got = await store.reserve(key, amount, limit, windowMs);
          if (!got.ok) {
            giveBack(store, held);
            held.length = 0;
            state.record.error = "token budget spent";
            return limited(
              `Token budget of ${limit} per window cannot hold this request ` +
                `(up to ${amount} tokens; ${Math.max(0, limit - got.count)} left)`,
              got.resetMs,
            );
          }
          held.push({ key, amount, windowMs, window: got.window });
        }
      }
      if (grant?.once && !(await store.claim(`once:${grant.once.id}`, grant.once.ttlMs))) {
        giveBack(store, held);
        held.length = 0;
        state.record.error = "token grant: used";
        return errorResponse("unauthorized", "The token was for one request and is used");
      }
    } catch (error) {
      giveBack(store, held);
      state.record.error = `limit store unavailable: ${(error as Error).name}`;
      return errorResponse("store_unavailable", "The limit store cannot be reached");
    }
    if (held.length) state.finally.push(() => settle(store, held, state));
    await next();
  };
}

/** Settles a request's reservations to what it used (see the module doc). */
function settle(store: LimitStore, held: readonly Held[], state: RequestState) {
  const tokens = state.record.tokens;
  if (!tokens) return; // nothing reported: the reservation stands
  for (const h of held) {
    const delta = state.record.tokens_estimated
      ? Math.max(0, tokens.total - h.amount)
      : tokens.total - h.amount;
    if (delta !== 0) void store.settle(h.key, delta, h.windowMs, h.window).catch(() => {});
  }
}

/** Counts a token's per-subject request and concurrency limits; the refusal, if any. */
async function countGrant(
  grant: Grant,
  store: LimitStore,
  state: RequestState,
): Promise<Response | undefined> {
  const { requests, concurrent } = grant.limits!;
  const subject = grant.subject;
  if (requests) {
    const { limit, windowMs } = requests;
    const { count, resetMs } = await store.add(`grant:requests:${subject}`, 1, windowMs);
    if (count > limit) {
      state.record.error = "token grant: request limit";
      return limited(`The token's limit of ${limit} requests per window is reached`, resetMs);
    }
  }
  if (concurrent) {
    const key = `grant:concurrent:${subject}`;
    const slot = await store.acquire(key, concurrent, SLOT_TTL_MS);
    if (slot === undefined) {
      state.record.error = "token grant: concurrency limit";
      return limited(`The token's limit of ${concurrent} requests in flight is reached`, 1000);
    }
    state.finally.push(() => void store.release(key, slot).catch(() => {}));
  }
  return undefined;
}

function hasBody(request: Request): boolean {
  return request.body !== null && request.method !== "GET" && request.method !== "HEAD";
}

/** The request body, or undefined when it is larger than `cap` or cannot be read. */
async function readWithin(
  request: Request,
  body: ReadableStream<Uint8Array>,
  cap: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > cap) return undefined;
  const reader = body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value as Uint8Array<ArrayBuffer>);
    }
  } catch {
    return undefined;
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
