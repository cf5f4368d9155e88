/**
 * `auth: token`: a bearer token or `x-api-key` matched against `clients`. Tokens are held as
 * sha256 digests only, and the presented token's digest is compared with every client's in
 * constant time, so neither a match nor its position shows in the timing.
 *
 * @module
 */
import type { ClientConfig } from "../config/types.ts";
import { sha256 } from "./sha256.ts";

/** Finds the client a token belongs to. */
export type TokenMatcher = (token: string) => string | undefined;

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Compares two digests of equal length in time that does not depend on their contents. */
export function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Compiles the clients list into a matcher; digests are computed here, once.
 *
 * @example
 * ```ts
 * const match = compileTokens([{ id: "alice", token: "s3cret" }]);
 * match("s3cret"); // "alice"
 * ```
 */
export function compileTokens(clients: readonly ClientConfig[]): TokenMatcher {
  const digests = clients.map((client) => ({
    id: client.id,
    digest: client.token_sha256 ? fromHex(client.token_sha256) : sha256(client.token!),
  }));
  return (token) => {
    const presented = sha256(token);
    let found: string | undefined;
    for (const { id, digest } of digests) {
      // Every digest is compared, even after a match.
      if (equalDigests(presented, digest) && found === undefined) found = id;
    }
    return found;
  };
}

/** The token a request presents: `Authorization: Bearer …` or `x-api-key`. */
export function presentedToken(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return headers.get("x-api-key")?.trim() || undefined;
}
