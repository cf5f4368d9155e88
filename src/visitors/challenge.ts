/**
 * Visitor challenges: a compact HS256 JWT (`typ: kw-pow`) that carries everything its check
 * needs: a random id (`jti`, the once-only handle), when it was issued and when it expires
 * (five minutes), the address prefix and Origin it was issued to, the difficulty and the
 * argon2id parameters. Nothing is stored when one is issued; the store remembers a challenge
 * only once it is answered (see `visitors.ts`), so each costs the server at most one hash.
 *
 * @module
 */
import { base64url } from "./hs256.ts";
import type { VisitorKeys } from "./keys.ts";
import { PUZZLE_PARAMS } from "./puzzle.ts";

/** How long a challenge may be answered, in seconds. */
const CHALLENGE_LIFE_S = 300;
/** Clock difference tolerated between instances, in seconds. */
const SKEW_S = 5;
/** The longest challenge text accepted (issued ones are about 330 characters). */
export const MAX_CHALLENGE = 1024;

/** What `GET /keyward/visitor/challenge` answers. */
export interface IssuedChallenge {
  /** The challenge text: the salt of every attempt, and what the token request sends back. */
  challenge: string;
  /** Expected attempts to a solution. */
  difficulty: number;
  /** Always `argon2id`. */
  algorithm: "argon2id";
  /** When it expires, in epoch seconds. */
  expires: number;
  /** The argon2id parameters: memory in KiB, passes, lanes. */
  params: { m: number; t: number; p: number };
  /** `required` when a Turnstile answer must come with the solution (`earn_with: both`). */
  turnstile?: "required";
}

/** A challenge's claims, once its signature and times are checked. */
export interface ChallengeClaims {
  /** The once-only handle. */
  jti: string;
  /** Expected attempts. */
  d: number;
  /** argon2id memory in KiB. */
  m: number;
  /** argon2id passes. */
  t: number;
  /** Expiry, epoch seconds. */
  exp: number;
  /** The address prefix it was issued to. */
  pfx: string;
  /** The Origin it was issued to, if the request had one. */
  org?: string;
}

/** Why a challenge was refused. */
export type ChallengeRefusal = "forged" | "expired" | "prefix" | "origin";

/**
 * Issues a challenge for `prefix` (and `origin`, when the request had one) at `difficulty`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkChallenge, issueChallenge } from "./challenge.ts";
 * import { visitorKeys } from "./keys.ts";
 *
 * const keys = visitorKeys("a-visitor-secret-of-32-bytes-or-more");
 * const issued = await issueChallenge(keys, "203.0.113.0/24", undefined, 3000);
 * assert.equal(issued.difficulty, 3000);
 *
 * const checked = await checkChallenge(keys, issued.challenge, "203.0.113.0/24", undefined);
 * assert.ok("claims" in checked);
 * const elsewhere = await checkChallenge(keys, issued.challenge, "198.51.100.0/24", undefined);
 * assert.deepEqual(elsewhere, { refused: "prefix" });
 * ```
 */
export async function issueChallenge(
  keys: VisitorKeys,
  prefix: string,
  origin: string | undefined,
  difficulty: number,
  turnstile = false,
  now = Date.now(),
): Promise<IssuedChallenge> {
  const iat = Math.floor(now / 1000);
  const exp = iat + CHALLENGE_LIFE_S;
  const { m, t, p } = PUZZLE_PARAMS;
  const claims: Record<string, unknown> = {
    v: 1,
    alg: "argon2id",
    m,
    t,
    d: difficulty,
    iat,
    exp,
    pfx: prefix,
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
  };
  if (origin !== undefined) claims.org = origin;
  const issued: IssuedChallenge = {
    challenge: await keys.challenges.sign(claims),
    difficulty,
    algorithm: "argon2id",
    expires: exp,
    params: { m, t, p },
  };
  if (turnstile) issued.turnstile = "required";
  return issued;
}

/**
 * Checks a challenge sent back: signed by this gateway, not expired, answered from the prefix
 * it was issued to and, when it was issued to an Origin, from that Origin. Whether it was
 * answered before is the store's to say.
 */
export async function checkChallenge(
  keys: VisitorKeys,
  text: string,
  prefix: string,
  origin: string | undefined,
  now = Date.now(),
): Promise<{ claims: ChallengeClaims } | { refused: ChallengeRefusal }> {
  if (text.length > MAX_CHALLENGE) return { refused: "forged" };
  const claims = await keys.challenges.verify(text);
  if (
    !claims || claims.v !== 1 || claims.alg !== "argon2id" || typeof claims.jti !== "string" ||
    !isCount(claims.d) || !isCount(claims.m) || !isCount(claims.t) ||
    typeof claims.exp !== "number" || typeof claims.iat !== "number" ||
    typeof claims.pfx !== "string" || (claims.org !== undefined && typeof claims.org !== "string")
  ) return { refused: "forged" };
  const seconds = now / 1000;
  if (claims.exp <= seconds || claims.iat > seconds + SKEW_S) return { refused: "expired" };
  if (claims.pfx !== prefix) return { refused: "prefix" };
  if (claims.org !== undefined && claims.org !== origin) return { refused: "origin" };
  return { claims: claims as unknown as ChallengeClaims };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}
