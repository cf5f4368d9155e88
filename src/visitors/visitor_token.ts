/**
 * Visitor tokens: HS256 JWTs signed with `server.visitors.secret`, naming a random visitor
 * id (`sub`, the client id its limits count under), the address prefix it was earned from
 * (`pfx`) and, from a browser, the page's Origin (`org`). A token checked once is
 * remembered until it expires, so a page reusing it for every request costs one HMAC, not one
 * per request.
 *
 * @module
 */
import { base64url } from "./hs256.ts";
import type { VisitorKeys } from "./keys.ts";

/** The issuer every visitor token names. */
export const VISITOR_ISSUER = "keyward-visitor";
/** Clock difference tolerated on `exp`, in seconds. */
const SKEW_S = 5;
/** Tokens remembered at most; past this the memory starts over. */
const VERIFIED_MAX = 10_000;

/** A visitor token's claims. */
export interface Visitor {
  /** The visitor id. */
  readonly sub: string;
  /** The address prefix it was earned from. */
  readonly pfx: string;
  /** The Origin of the page that earned it, if a page did. */
  readonly org?: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

/**
 * A new visitor id: `v_` and 16 random bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newVisitorId } from "./visitor_token.ts";
 *
 * assert.match(newVisitorId(), /^v_[\w-]{22}$/);
 * ```
 */
export function newVisitorId(): string {
  return `v_${base64url(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/** Mints and checks visitor tokens. */
export class VisitorTokens {
  readonly #keys: VisitorKeys;
  readonly #verified = new Map<string, Visitor>();

  /**
   * Tokens signed with `keys.tokens`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { visitorKeys } from "./keys.ts";
   * import { VisitorTokens } from "./visitor_token.ts";
   *
   * const tokens = new VisitorTokens(visitorKeys("a-visitor-secret-of-32-bytes-or-more"));
   * const { token } = await tokens.mint("v_1", "203.0.113.0/24", "https://app.example", 3_600_000);
   * const checked = await tokens.check(token);
   * assert.ok("visitor" in checked && checked.visitor.sub === "v_1");
   * assert.deepEqual(await tokens.check(token + "x"), { refused: "forged" });
   * ```
   */
  constructor(keys: VisitorKeys) {
    this.#keys = keys;
  }

  /** A token for visitor `sub` on `prefix` (and `origin`), living `ttlMs`. */
  async mint(
    sub: string,
    prefix: string,
    origin: string | undefined,
    ttlMs: number,
    now = Date.now(),
  ): Promise<{ token: string; expires: number }> {
    const iat = Math.floor(now / 1000);
    const exp = iat + Math.round(ttlMs / 1000);
    const claims: Record<string, unknown> = { iss: VISITOR_ISSUER, sub, pfx: prefix, iat, exp };
    if (origin !== undefined) claims.org = origin;
    return { token: await this.#keys.tokens.sign(claims), expires: exp };
  }

  /** The visitor a token names, or why it is refused (`forged`: not one of ours). */
  async check(
    token: string,
    now = Date.now(),
  ): Promise<{ visitor: Visitor } | { refused: "forged" | "expired" }> {
    let visitor = this.#verified.get(token);
    if (!visitor) {
      if (token.length > 2048) return { refused: "forged" };
      const claims = await this.#keys.tokens.verify(token);
      if (
        !claims || claims.iss !== VISITOR_ISSUER || typeof claims.sub !== "string" ||
        !claims.sub || typeof claims.pfx !== "string" || typeof claims.exp !== "number" ||
        (claims.org !== undefined && typeof claims.org !== "string")
      ) return { refused: "forged" };
      visitor = {
        sub: claims.sub,
        pfx: claims.pfx,
        org: claims.org as string | undefined,
        exp: claims.exp,
      };
      if (visitor.exp > now / 1000) {
        if (this.#verified.size >= VERIFIED_MAX) this.#verified.clear();
        this.#verified.set(token, visitor);
      }
    }
    if (visitor.exp + SKEW_S <= now / 1000) {
      this.#verified.delete(token);
      return { refused: "expired" };
    }
    return { visitor };
  }
}
