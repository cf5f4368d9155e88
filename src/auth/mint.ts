/**
 * `mintToken`: the app server, which already knows its user, mints a short-lived JWT for the
 * browser; a route with `auth: { jwt: { secret } }` verifies it with no user database. Runs
 * wherever WebCrypto does (Deno, Node, Bun, edge runtimes).
 *
 * @module
 */
import { parseDuration, parseRate, parseSpendRate } from "../config/units.ts";

/** Options of {@linkcode mintToken}. */
export interface MintOptions {
  /** The HS256 secret, the one the route's `auth: { jwt: { secret } }` holds. */
  secret: string;
  /** The client id for limits and logs (`sub`). */
  subject: string;
  /** How long the token lives: `"15m"`, `"1h"`, or seconds. 15 minutes when absent. */
  expiresIn?: string | number;
  /** Only these routes (by name). */
  routes?: string[];
  /** Only these models (narrows the route's `body.models`). */
  models?: string[];
  /** Limits per subject, counted in the gateway's store: rates like `"30/min"`. */
  limits?: { requests?: string; tokens?: string; spend?: string; concurrent?: number };
  /** The request's `Origin` must equal this; a request without `Origin` is refused. */
  origin?: string;
  /** True: usable for one request only. */
  once?: boolean;
  /** `iss`, when the route's jwt settings check one. */
  issuer?: string;
  /** `aud`, when the route's jwt settings check one. */
  audience?: string;
}

/** Thrown by {@linkcode mintToken} for options that would make a token no gateway accepts. */
export class MintError extends Error {
  /** Makes the error with the message for the caller. */
  constructor(message: string) {
    super(message);
    this.name = "MintError";
  }
}

const DEFAULT_TTL_MS = 15 * 60_000;

function nonEmpty(list: string[] | undefined, name: string): string[] | undefined {
  if (list === undefined) return undefined;
  if (list.length === 0 || !list.every((item) => typeof item === "string" && item)) {
    throw new MintError(`${name} must be a non-empty list of names`);
  }
  return list;
}

/**
 * Mints a client token (HS256 JWT) whose claims narrow what the route allows.
 *
 * @throws {MintError} when an option is malformed (a short secret, a bad rate or duration)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mintToken } from "./mint.ts";
 *
 * const token = await mintToken({
 *   secret: "a-secret-of-at-least-32-characters!!",
 *   subject: "user-42",
 *   expiresIn: "15m",
 *   routes: ["openai"],
 *   models: ["gpt-4o-mini"],
 *   limits: { tokens: "20000/day", requests: "30/min" },
 *   origin: "https://app.example",
 * });
 * assert.equal(token.split(".").length, 3); // a JWT: header.claims.signature
 * ```
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const { secret, subject } = options;
  if (typeof secret !== "string" || secret.length < 32) {
    throw new MintError("The secret must be at least 32 characters");
  }
  if (typeof subject !== "string" || !subject) throw new MintError("The subject is empty");
  let ttlMs = DEFAULT_TTL_MS;
  if (options.expiresIn !== undefined) {
    try {
      ttlMs = parseDuration(options.expiresIn);
    } catch (error) {
      throw new MintError((error as Error).message);
    }
    if (!(ttlMs > 0)) throw new MintError("expiresIn must be positive");
  }
  const claims: Record<string, unknown> = {};
  const routes = nonEmpty(options.routes, "routes");
  if (routes) claims.routes = routes;
  const models = nonEmpty(options.models, "models");
  if (models) claims.models = models;
  if (options.limits) {
    const limits: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(options.limits)) {
      if (value === undefined) continue;
      if (name === "concurrent") {
        if (!Number.isSafeInteger(value) || (value as number) < 1) {
          throw new MintError("limits.concurrent must be a positive integer");
        }
      } else if (name === "requests" || name === "tokens" || name === "spend") {
        try {
          if (name === "spend") parseSpendRate(String(value));
          else parseRate(String(value));
        } catch (error) {
          throw new MintError((error as Error).message);
        }
      } else throw new MintError(`Unknown limit ${name}`);
      limits[name] = value;
    }
    if (Object.keys(limits).length) claims.limits = limits;
  }
  if (options.origin !== undefined) {
    let origin: string;
    try {
      origin = new URL(options.origin).origin;
    } catch {
      throw new MintError(`Cannot parse origin "${options.origin}"`);
    }
    if (origin === "null" || origin !== options.origin.replace(/\/$/, "")) {
      throw new MintError(`"${options.origin}" is not an origin (scheme://host[:port])`);
    }
    claims.origin = origin;
  }
  if (options.once) claims.once = true;
  const now = Math.floor(Date.now() / 1000);
  // The signer is loaded on the first mint: gateways that never mint never load it.
  const { SignJWT } = await import("jose");
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.max(1, Math.ceil(ttlMs / 1000)))
    .setJti(crypto.randomUUID());
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return await jwt.sign(new TextEncoder().encode(secret));
}
