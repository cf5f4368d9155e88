/**
 * `auth: token`: a bearer token, `x-api-key` (or the WebSocket subprotocol a browser's socket
 * offers its token in) matched against `clients`. Tokens are held as
 * sha256 digests only, and the presented token's digest is compared with every client's in
 * constant time, so neither a match nor its position shows in the timing.
 *
 * @module
 */
import type { ClientConfig } from "../config/types.ts";
import type { TokenSource } from "../config/presets/preset.ts";
import { isWebSocketUpgrade, offeredProtocols, TOKEN_PROTOCOL } from "../websocket_handshake.ts";
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

/**
 * Reads the token a request presents, or undefined. `url` is the request's URL, for a token
 * source in the query string (read on WebSocket upgrades only).
 */
export type TokenReader = (headers: Headers, url?: string) => string | undefined;

/**
 * Where every route looks: `Authorization: Bearer …`, then `x-api-key`, then a WebSocket
 * subprotocol `openai-insecure-api-key.<token>` (how the openai SDK's browser client sends its
 * key; browsers cannot set headers on a socket, and only upgrades carry subprotocols).
 */
export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = [
  { header: "authorization", scheme: "Bearer" },
  { header: "x-api-key" },
  { protocol: TOKEN_PROTOCOL },
];

/** What a compiled source reads: a token, or undefined when this source holds none. */
type SourceReader = (headers: Headers, url: string | undefined) => string | undefined;

function compileSource(source: TokenSource): SourceReader {
  if ("protocol" in source) {
    const prefix = source.protocol;
    return (headers) => {
      if (!headers.has("sec-websocket-protocol")) return undefined;
      for (const offered of offeredProtocols(headers)) {
        if (offered.startsWith(prefix) && offered.length > prefix.length) {
          return offered.slice(prefix.length);
        }
      }
      return undefined;
    };
  }
  if ("query" in source) {
    const name = source.query;
    return (headers, url) => {
      if (url === undefined || !url.includes("?") || !isWebSocketUpgrade(headers)) {
        return undefined;
      }
      const token = new URL(url).searchParams.get(name)?.trim();
      return token || undefined;
    };
  }
  const header = source.header.toLowerCase();
  if (!source.scheme) {
    return (headers) => headers.get(header)?.trim() || undefined;
  }
  const pattern = new RegExp(`^${source.scheme}\\s+(\\S+)\\s*$`, "i");
  return (headers) => {
    const value = headers.get(header);
    return value ? pattern.exec(value)?.[1] : undefined;
  };
}

/**
 * Compiles where a route reads its clients' tokens: the sources in order, the first that
 * holds a token wins. Each header a source names must also be one the route never forwards,
 * and each query parameter one it strips; offered subprotocols are never forwarded as they
 * came (see `src/realtime/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTokenReader, DEFAULT_TOKEN_SOURCES } from "./token.ts";
 *
 * const read = compileTokenReader([...DEFAULT_TOKEN_SOURCES, { header: "x-goog-api-key" }]);
 * assert.equal(read(new Headers({ "x-goog-api-key": "tok" })), "tok");
 * assert.equal(read(new Headers({ authorization: "Bearer tok" })), "tok");
 *
 * // a browser's WebSocket offers the token as a subprotocol
 * const socket = new Headers({ "sec-websocket-protocol": "realtime, openai-insecure-api-key.tok" });
 * assert.equal(read(socket), "tok");
 *
 * // a query source is read on WebSocket upgrades only
 * const live = compileTokenReader([{ query: "key" }]);
 * const url = "http://gateway/gemini/ws/Live?key=tok";
 * assert.equal(live(new Headers({ upgrade: "websocket" }), url), "tok");
 * assert.equal(live(new Headers(), url), undefined);
 * ```
 */
export function compileTokenReader(sources: readonly TokenSource[]): TokenReader {
  const readers = sources.map(compileSource);
  return (headers, url) => {
    for (const read of readers) {
      const token = read(headers, url);
      if (token) return token;
    }
    return undefined;
  };
}

/**
 * The token a request presents: `Authorization: Bearer …`, `x-api-key`, or the
 * `openai-insecure-api-key.` subprotocol.
 */
export const presentedToken: TokenReader = compileTokenReader(DEFAULT_TOKEN_SOURCES);
