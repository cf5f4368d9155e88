/**
 * The keys visitors are signed with, both from `server.visitors.secret`: tokens with the
 * secret itself (HS256, so the app's own backend can check a visitor token with the same
 * secret), challenges with a key derived from it. A different key and a different `typ`
 * mean a challenge never passes as a token, nor a token as a challenge.
 *
 * @module
 */
import { hmacKey, Hs256 } from "./hs256.ts";

/** The signers of challenges and of tokens. */
export interface VisitorKeys {
  /** Signs challenges (`typ: kw-pow`) with HMAC(secret, "keyward visitor challenge v1"). */
  readonly challenges: Hs256;
  /** Signs visitor tokens (`typ: JWT`) with the secret. */
  readonly tokens: Hs256;
}

const encoder = new TextEncoder();

/**
 * Derives the signers from the secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { visitorKeys } from "./keys.ts";
 *
 * const keys = visitorKeys("a-visitor-secret-of-32-bytes-or-more");
 * const challenge = await keys.challenges.sign({ jti: "x" });
 * assert.equal(await keys.tokens.verify(challenge), undefined); // never a token
 * ```
 */
export function visitorKeys(secret: string): VisitorKeys {
  const bytes = encoder.encode(secret);
  const derived = hmacKey(bytes).then(async (key) =>
    hmacKey(
      new Uint8Array(
        await crypto.subtle.sign("HMAC", key, encoder.encode("keyward visitor challenge v1")),
      ),
    )
  );
  return { challenges: new Hs256(derived, "kw-pow"), tokens: new Hs256(hmacKey(bytes), "JWT") };
}
