/**
 * `auth: token`: a bearer token or `x-api-key` matched against `clients`. Tokens are held as
 * sha256 digests only, and the presented token's digest is compared with every client's in
 * constant time, so neither a match nor its position shows in the timing.
 *
 * @module
 */
import type { ClientConfig } from "../config/types.ts";
import type { TokenSource } from "../config/presets/preset.ts";
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
 * import assert from "node:assert/strict";
 * import { compileTokens } from "./token.ts";
 *
 * const match = compileTokens([{ id: "alice", token: "s3cret" }]);
 * assert.equal(match("s3cret"), "alice");
 * assert.equal(match("guess"), undefined);
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

/** Reads the token a request presents, or undefined. */
export type TokenReader = (headers: Headers) => string | undefined;

/** Where every route looks: `Authorization: Bearer …`, then `x-api-key`. */
export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = [
  { header: "authorization", scheme: "Bearer" },
  { header: "x-api-key" },
];

/**
 * Compiles where a route reads its clients' tokens: the sources in order, the first that
 * holds a token wins. Each header a source names must also be one the route never forwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTokenReader, DEFAULT_TOKEN_SOURCES } from "./token.ts";
 *
 * const read = compileTokenReader([...DEFAULT_TOKEN_SOURCES, { header: "x-goog-api-key" }]);
 * assert.equal(read(new Headers({ "x-goog-api-key": "tok" })), "tok");
 * assert.equal(read(new Headers({ authorization: "Bearer tok" })), "tok");
 * ```
 */
export function compileTokenReader(sources: readonly TokenSource[]): TokenReader {
  const compiled = sources.map(({ header, scheme }) => ({
    header: header.toLowerCase(),
    pattern: scheme ? new RegExp(`^${scheme}\\s+(\\S+)\\s*$`, "i") : undefined,
  }));
  return (headers) => {
    for (const { header, pattern } of compiled) {
      const value = headers.get(header);
      if (!value) continue;
      if (!pattern) {
        const token = value.trim();
        if (token) return token;
      } else {
        const match = pattern.exec(value);
        if (match) return match[1];
      }
    }
    return undefined;
  };
}

/** The token a request presents: `Authorization: Bearer …` or `x-api-key`. */
export const presentedToken: TokenReader = compileTokenReader(DEFAULT_TOKEN_SOURCES);
