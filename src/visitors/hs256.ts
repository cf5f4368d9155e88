/**
 * Compact HS256 JWTs with one fixed header each: visitor challenges (`typ: kw-pow`) and
 * visitor tokens (`typ: JWT`). The header must be exactly the expected one, byte for byte, so
 * `alg: none`, another algorithm or a challenge passed as a token (or the other way round) is
 * refused before any JSON is read; the signature is checked in constant time by Web Crypto.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Base64url without padding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { base64url } from "./hs256.ts";
 *
 * assert.equal(base64url(new Uint8Array([251, 255])), "-_8");
 * ```
 */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Bytes of a base64url text, or undefined when it is not base64url.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromBase64url } from "./hs256.ts";
 *
 * assert.deepEqual(fromBase64url("-_8"), new Uint8Array([251, 255]));
 * assert.equal(fromBase64url("not base64!"), undefined);
 * ```
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * An HMAC-SHA256 key for signing and verifying.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hmacKey } from "./hs256.ts";
 *
 * const key = await hmacKey(new TextEncoder().encode("a".repeat(32)));
 * assert.equal(key.algorithm.name, "HMAC");
 * ```
 */
export function hmacKey(secret: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** Signs and verifies JWTs of one `typ` with one key. */
export class Hs256 {
  readonly #key: Promise<CryptoKey>;
  readonly #header: string;

  /**
   * A signer for `typ` with `key`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Hs256, hmacKey } from "./hs256.ts";
   *
   * const jwt = new Hs256(hmacKey(new TextEncoder().encode("a".repeat(32))), "JWT");
   * const token = await jwt.sign({ sub: "v_1", exp: 1900000000 });
   * assert.deepEqual(await jwt.verify(token), { sub: "v_1", exp: 1900000000 });
   * assert.equal(await jwt.verify(token.slice(0, -2) + "xx"), undefined); // forged
   * ```
   */
  constructor(key: Promise<CryptoKey>, typ: string) {
    this.#key = key;
    this.#key.catch(() => {}); // surfaces on first use
    this.#header = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ })));
  }

  /** The compact JWT of `payload`. */
  async sign(payload: Record<string, unknown>): Promise<string> {
    const body = `${this.#header}.${base64url(encoder.encode(JSON.stringify(payload)))}`;
    const mac = await crypto.subtle.sign("HMAC", await this.#key, encoder.encode(body));
    return `${body}.${base64url(new Uint8Array(mac))}`;
  }

  /**
   * The payload of `token` when its header is exactly this signer's and its signature holds,
   * else undefined. Times are not checked here.
   */
  async verify(token: string): Promise<Record<string, unknown> | undefined> {
    const first = token.indexOf(".");
    const last = token.lastIndexOf(".");
    if (first < 0 || last === first || token.slice(0, first) !== this.#header) return undefined;
    const mac = fromBase64url(token.slice(last + 1));
    const payload = fromBase64url(token.slice(first + 1, last));
    if (!mac || mac.length !== 32 || !payload) return undefined;
    const valid = await crypto.subtle.verify(
      "HMAC",
      await this.#key,
      mac,
      encoder.encode(token.slice(0, last)),
    );
    if (!valid) return undefined;
    try {
      const claims = JSON.parse(decoder.decode(payload));
      return claims && typeof claims === "object" && !Array.isArray(claims) ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
