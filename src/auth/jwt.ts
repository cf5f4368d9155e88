/**
 * `auth: jwt`: a bearer JWT verified with an HS256 secret or a JWKS URL (fetched lazily,
 * cached, and fetched again when a token names a key it has not seen: key rotation works
 * without a restart). `iss` and `aud` when configured, `exp` (required) and `nbf` are checked;
 * the client is `sub`. Claims that narrow the route (tokens from `mintToken`) are read into a
 * grant; with a secret, a claim the gateway does not know refuses the token.
 *
 * @module
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { JwtConfig } from "../config/types.ts";
import { type Grant, grantOf } from "./grant.ts";

/**
 * A verification's outcome: the client (`sub`) and what its claims grant (see grant.ts), or
 * why the token was refused.
 */
export type JwtResult = { client: string; grant: Grant } | { refused: string };

/** Verifies a JWT. */
export type JwtVerifier = (token: string) => Promise<JwtResult>;

/** How long a fetched key set is used before it is fetched again. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/**
 * The least time between two fetches of a key set: a token with an unknown `kid` triggers a
 * fetch (that is how rotation is picked up), but no faster than this, so forged `kid`s
 * cannot hammer the issuer.
 */
const JWKS_COOLDOWN_MS = 2_000;
/**
 * Tokens verified with a secret are remembered (by their exact text, until they expire), so a
 * browser reusing its token for every request costs one HMAC, not one per request. Bounded:
 * past this many the memory starts over.
 */
const VERIFIED_MAX = 10_000;

/** A token that passed, with the times that bound its use. */
interface Verified {
  result: { client: string; grant: Grant };
  exp: number;
  nbf: number;
}

/** Clock difference tolerated on `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 5;

/**
 * Compiles a `jwt:` section into a verifier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileJwt } from "./jwt.ts";
 * import { mintToken } from "./mint.ts";
 *
 * const secret = "a-shared-secret-of-at-least-32-chars";
 * const verify = compileJwt({ secret, audience: "my-app" });
 *
 * const token = await mintToken({ secret, subject: "user-42", audience: "my-app" });
 * assert.deepEqual(await verify(token), { client: "user-42", grant: { subject: "user-42" } });
 * assert.ok("refused" in await verify("not-a-jwt"));
 * ```
 */
export function compileJwt(config: JwtConfig): JwtVerifier {
  const key: Uint8Array<ArrayBuffer> | JWTVerifyGetKey = config.secret !== undefined
    ? new TextEncoder().encode(config.secret)
    : createRemoteJWKSet(new URL(config.jwks!), {
      cacheMaxAge: JWKS_MAX_AGE_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      timeoutDuration: 5_000,
    });
  const options = {
    algorithms: config.secret !== undefined ? ["HS256"] : ["RS256", "PS256", "ES256", "EdDSA"],
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ["exp", "sub"],
    clockTolerance: CLOCK_TOLERANCE_S,
  };
  const strict = config.secret !== undefined;
  // The secret is imported once, not for every token.
  const hmac = typeof key === "function" ? undefined : crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  hmac?.catch(() => {}); // a failure surfaces on the first verification
  const verified = hmac ? new Map<string, Verified>() : undefined;
  return async (token) => {
    const hit = verified?.get(token);
    if (hit) {
      const now = Date.now() / 1000;
      if (now <= hit.exp + CLOCK_TOLERANCE_S && now >= hit.nbf - CLOCK_TOLERANCE_S) {
        return hit.result;
      }
      verified!.delete(token);
    }
    try {
      const { payload } = typeof key === "function"
        ? await jwtVerify(token, key, options)
        // Date.now, the clock the remembered tokens are checked against, for both.
        : await jwtVerify(token, await hmac!, { ...options, currentDate: new Date(Date.now()) });
      const grant = grantOf(payload as Record<string, unknown>, strict);
      if ("refused" in grant) return grant;
      const result = { client: grant.subject, grant };
      if (verified) {
        if (verified.size >= VERIFIED_MAX) verified.clear();
        verified.set(token, { result, exp: payload.exp!, nbf: payload.nbf ?? 0 });
      }
      return result;
    } catch (error) {
      // jose's codes name the failed check (ERR_JWT_EXPIRED, ERR_JWKS_TIMEOUT …), never a secret
      return { refused: (error as { code?: string }).code ?? (error as Error).name };
    }
  };
}
