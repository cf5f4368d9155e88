/**
 * `auth: forward`: the app's own session endpoint decides, like nginx's `auth_request`. It
 * receives the client's cookie and authorization headers; a 2xx allows, 401 and 403 refuse,
 * anything else (or no answer) fails closed. Answers are cached briefly per credential set,
 * keyed by a digest, so the cache never holds a cookie.
 *
 * @module
 */
import { sha256 } from "./sha256.ts";
import type { ForwardAuthConfig } from "../config/types.ts";

/** A forward-auth outcome. */
export type ForwardResult =
  | { client: string }
  | { refused: 401 | 403 }
  | { failed: string };

/** Asks the session endpoint about a request. */
export type ForwardVerifier = (request: Request, fallbackClient: string) => Promise<ForwardResult>;

/** Headers of the client's request that carry its session. */
const CREDENTIAL_HEADERS = ["cookie", "authorization"];
/** How long the session endpoint may take. */
const TIMEOUT_MS = 5_000;
/** Cached answers kept at most; the oldest go first. */
const MAX_CACHED = 10_000;

/**
 * Compiles a `forward:` section into a verifier with its own answer cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileForwardAuth } from "./forward_auth.ts";
 *
 * // The app's session endpoint (a stand-in here): it knows one cookie and names its user.
 * const session: typeof fetch = (_url, init) => {
 *   const known = new Headers(init?.headers).get("cookie") === "sid=42";
 *   return Promise.resolve(
 *     known
 *       ? new Response(null, { status: 204, headers: { "x-user": "user-42" } })
 *       : new Response(null, { status: 401 }),
 *   );
 * };
 * const verify = compileForwardAuth(
 *   { url: "http://127.0.0.1:3000/api/session", client_header: "x-user", cache: 30_000 },
 *   session,
 * );
 *
 * const url = "http://gateway/openai/v1/models";
 * const signedIn = new Request(url, { headers: { cookie: "sid=42" } });
 * assert.deepEqual(await verify(signedIn, "203.0.113.7"), { client: "user-42" });
 * assert.deepEqual(await verify(new Request(url), "203.0.113.7"), { refused: 401 });
 * ```
 */
export function compileForwardAuth(
  config: ForwardAuthConfig,
  fetcher: typeof fetch = fetch,
): ForwardVerifier {
  const url = config.url;
  const clientHeader = config.client_header?.toLowerCase();
  const ttl = config.cache ?? 0;
  const cache = new Map<string, { result: ForwardResult; until: number }>();

  const ask = async (request: Request, fallbackClient: string): Promise<ForwardResult> => {
    const headers = new Headers({ accept: "application/json" });
    for (const name of CREDENTIAL_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const original = new URL(request.url);
    headers.set("x-original-method", request.method);
    headers.set("x-original-uri", original.pathname);
    let response: Response;
    try {
      response = await fetcher(url, {
        headers,
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await response.body?.cancel();
    } catch (error) {
      return { failed: `session endpoint unreachable: ${(error as Error).name}` };
    }
    if (response.status === 401 || response.status === 403) return { refused: response.status };
    if (response.status < 200 || response.status > 299) {
      return { failed: `session endpoint answered ${response.status}` };
    }
    if (!clientHeader) return { client: fallbackClient };
    const client = response.headers.get(clientHeader)?.trim();
    return client ? { client } : { failed: `session endpoint sent no ${clientHeader}` };
  };

  return async (request, fallbackClient) => {
    if (ttl <= 0) return await ask(request, fallbackClient);
    let credentials = "";
    for (const name of CREDENTIAL_HEADERS) credentials += `${request.headers.get(name) ?? ""}\n`;
    if (!clientHeader) credentials += fallbackClient;
    const id = hex(sha256(credentials));
    const now = Date.now();
    const hit = cache.get(id);
    if (hit && hit.until > now) return hit.result;
    const result = await ask(request, fallbackClient);
    // Failures are not cached: the next request asks again.
    if (!("failed" in result)) {
      cache.delete(id);
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      cache.set(id, { result, until: now + ttl });
    }
    return result;
  };
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}
