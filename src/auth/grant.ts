/**
 * What a client token minted by the app grants: its claims, read once when the token is
 * verified. Claims only narrow a route (`routes`, `models`, `limits`, `origin`, `once`); a
 * claim the gateway does not understand refuses the token, since ignoring it could widen what
 * its issuer meant to allow.
 *
 * @module
 */
import { parseRate, parseSpendRate, type Rate } from "../config/units.ts";

/** Per-subject limits a token carries, counted in the gateway's store. */
export interface GrantLimits {
  /** Requests per window. */
  readonly requests?: Rate;
  /** Tokens per window, reserved before the request and settled to the reported usage. */
  readonly tokens?: Rate;
  /** Dollars per window (units of 1e-8 USD), reserved and settled like tokens. */
  readonly spend?: Rate;
  /** Requests in flight at once. */
  readonly concurrent?: number;
}

/** The narrowing a verified token carries. */
export interface Grant {
  /** The token's subject: the client id. */
  readonly subject: string;
  /** Routes (by name) the token may call; all the route's auth admits when absent. */
  readonly routes?: ReadonlySet<string>;
  /** Models the request body may name. */
  readonly models?: ReadonlySet<string>;
  /** Limits per subject. */
  readonly limits?: GrantLimits;
  /** The exact `Origin` requests must carry. */
  readonly origin?: string;
  /** Single use: the token's id and how long it must be remembered. */
  readonly once?: { readonly id: string; readonly ttlMs: number };
}

/** Claims every JWT may carry, checked by the verifier itself. */
const REGISTERED = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]);
/** Claims that narrow a route. */
const NARROWING = new Set(["routes", "models", "limits", "origin", "once"]);
const LIMIT_NAMES = new Set(["requests", "tokens", "spend", "concurrent"]);
/** How long after `exp` a used single-use token is still remembered (the verifier's tolerance). */
const ONCE_MARGIN_MS = 10_000;

/** Why a token's claims were refused. */
export type GrantRefusal = { refused: string };

const rates = new Map<string, Rate>();

/** A rate claim (`spend` in dollars), parsed once per distinct text (an app's tokens repeat). */
function rateOf(value: unknown, spend = false): Rate | undefined {
  if (typeof value !== "string") return undefined;
  const key = spend ? `spend ${value}` : value;
  let rate = rates.get(key);
  if (!rate) {
    try {
      rate = spend ? parseSpendRate(value) : parseRate(value);
    } catch {
      return undefined;
    }
    if (rates.size > 1000) rates.clear();
    rates.set(key, rate);
  }
  return rate;
}

function names(value: unknown): ReadonlySet<string> | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (!value.every((v) => typeof v === "string" && v.length > 0)) return undefined;
  return new Set(value as string[]);
}

/**
 * Reads the narrowing claims of a verified payload. `strict` refuses any claim that is neither
 * registered nor narrowing (tokens signed with the route's own secret, which keyward mints);
 * a token from an identity provider (JWKS) carries claims of its own, and only the narrowing
 * ones are read from it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantOf } from "./grant.ts";
 *
 * const grant = grantOf({ sub: "user-42", exp: 1900000000, routes: ["openai"] }, true);
 * assert.deepEqual(grant, { subject: "user-42", routes: new Set(["openai"]) });
 *
 * // strict: a claim keyward does not know refuses the token
 * const refused = grantOf({ sub: "user-42", exp: 1900000000, admin: true }, true);
 * assert.deepEqual(refused, { refused: "unknown claim admin" });
 * ```
 */
export function grantOf(
  payload: Record<string, unknown>,
  strict: boolean,
  now = Date.now(),
): Grant | GrantRefusal {
  let narrowed = false;
  for (const claim in payload) {
    if (NARROWING.has(claim)) narrowed = true;
    else if (strict && !REGISTERED.has(claim)) return { refused: `unknown claim ${claim}` };
  }
  const subject = String(payload.sub);
  if (!narrowed) return { subject };
  const grant: { -readonly [K in keyof Grant]: Grant[K] } = { subject };
  if (payload.routes !== undefined) {
    grant.routes = names(payload.routes);
    if (!grant.routes) return { refused: "routes is not a list of route names" };
  }
  if (payload.models !== undefined) {
    grant.models = names(payload.models);
    if (!grant.models) return { refused: "models is not a list of models" };
  }
  if (payload.origin !== undefined) {
    if (typeof payload.origin !== "string" || !payload.origin) {
      return { refused: "origin is not an origin" };
    }
    grant.origin = payload.origin;
  }
  if (payload.limits !== undefined) {
    const limits = payload.limits as Record<string, unknown>;
    if (!limits || typeof limits !== "object" || Array.isArray(limits)) {
      return { refused: "limits is not an object" };
    }
    const out: { -readonly [K in keyof GrantLimits]: GrantLimits[K] } = {};
    for (const name in limits) {
      if (!LIMIT_NAMES.has(name)) return { refused: `unknown limit ${name}` };
    }
    if (limits.requests !== undefined) {
      out.requests = rateOf(limits.requests);
      if (!out.requests) return { refused: "limits.requests is not a rate" };
    }
    if (limits.tokens !== undefined) {
      out.tokens = rateOf(limits.tokens);
      if (!out.tokens) return { refused: "limits.tokens is not a rate" };
    }
    if (limits.spend !== undefined) {
      out.spend = rateOf(limits.spend, true);
      if (!out.spend) return { refused: "limits.spend is not a spend rate ($X/unit)" };
    }
    if (limits.concurrent !== undefined) {
      const n = limits.concurrent;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
        return { refused: "limits.concurrent is not a positive integer" };
      }
      out.concurrent = n;
    }
    grant.limits = out;
  }
  if (payload.once !== undefined) {
    if (typeof payload.once !== "boolean") return { refused: "once is not true or false" };
    if (payload.once) {
      if (typeof payload.jti !== "string" || !payload.jti) {
        return { refused: "a once token has no jti" };
      }
      const exp = Number(payload.exp) * 1000;
      grant.once = { id: payload.jti, ttlMs: Math.max(1, exp - now) + ONCE_MARGIN_MS };
    }
  }
  return grant;
}

/** Whether a grant has anything to check beyond its route and origin. */
export function grantCounts(grant: Grant): boolean {
  return grant.models !== undefined || grant.limits !== undefined || grant.once !== undefined;
}
