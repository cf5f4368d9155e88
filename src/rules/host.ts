/**
 * A request that names no host. HTTP/1.1 requires a `Host` header on every request, and a
 * server must answer one without it with 400 (RFC 9112, section 3.2), as nginx does. Deno's
 * HTTP server takes such a request (a head ending in bare LF produces them too) and gives it
 * the URL `http://localhost:PORT/...` of its own making. HTTP/2 requests carry no `Host`
 * header but name their host in `:authority`, which becomes the URL's host.
 *
 * So a request with no (or an empty) `Host` header whose URL names `localhost` named no host
 * at all. An HTTP/2 request whose `:authority` is `localhost` itself looks the same and is
 * refused too: a cleartext HTTP/2 client addresses the server by another name or address.
 *
 * Only the standalone server asks for this check: a library host (Node's HTTP server, a
 * framework, an edge runtime) parses the head itself, and a `Request` made in code needs no
 * `Host`.
 *
 * @module
 */

/**
 * True when `request`, as Deno's HTTP server hands it over, named no host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namesNoHost } from "./host.ts";
 *
 * // what Deno's server makes of `GET /v1/models HTTP/1.1` with no Host line
 * assert.equal(namesNoHost(new Request("http://localhost:8080/v1/models")), true);
 * const named = new Request("http://localhost:8080/v1/models", {
 *   headers: { host: "gateway.example" },
 * });
 * assert.equal(namesNoHost(named), false);
 * // HTTP/2: no Host header, the host from :authority
 * assert.equal(namesNoHost(new Request("http://gateway.example/v1/models")), false);
 * ```
 */
export function namesNoHost(request: Request): boolean {
  const host = request.headers.get("host");
  if (host !== null && host.trim() !== "") return false;
  const url = request.url;
  // "http://localhost:" or "http://localhost/": the server's own stand-in for a host
  const at = url.indexOf("://") + 3;
  return url.startsWith("localhost", at) && (url[at + 9] === ":" || url[at + 9] === "/");
}
