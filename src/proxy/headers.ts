/**
 * Header hygiene in both directions. Upstream requests carry neither the client's
 * credentials nor cookies, hop-by-hop headers, `host`, forwarding or trace headers; client
 * responses carry no hop-by-hop headers and no upstream cookies.
 *
 * @module
 */

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Request headers that never reach the upstream, whatever the route. */
export const REQUEST_DROP: readonly string[] = [
  ...HOP_BY_HOP,
  "host",
  "accept-encoding",
  // client credentials
  "authorization",
  "x-api-key",
  "cookie",
  // forwarding and tracing: the gateway is the client now
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-real-ip",
  "traceparent",
  "tracestate",
  "baggage",
  // browser-only context the upstream has no use for
  "origin",
  "referer",
];

const RESPONSE_DROP = new Set([...HOP_BY_HOP, "set-cookie", "set-cookie2", "content-length"]);

/**
 * Compiles the set of request header names to drop for a route: the fixed list plus the
 * route's own key header and target header.
 */
export function requestDropSet(extra: readonly (string | undefined)[]): Set<string> {
  const set = new Set(REQUEST_DROP);
  for (const name of extra) if (name) set.add(name.toLowerCase());
  return set;
}

/**
 * Copies the client's request headers for the upstream, leaving out `drop` and any header
 * the client named in `Connection`.
 *
 * @example
 * ```ts
 * const headers = upstreamHeaders(request.headers, requestDropSet(["x-goog-api-key"]));
 * ```
 */
export function upstreamHeaders(incoming: Headers, drop: ReadonlySet<string>): Headers {
  const out = new Headers();
  const connection = incoming.get("connection");
  const named = connection
    ? new Set(connection.toLowerCase().split(",").map((s) => s.trim()))
    : undefined;
  for (const [name, value] of incoming) {
    if (drop.has(name) || named?.has(name)) continue;
    out.append(name, value);
  }
  return out;
}

/**
 * Copies the upstream's response headers for the client, without hop-by-hop headers,
 * cookies or a length the gateway may not keep.
 */
export function clientHeaders(incoming: Headers): Headers {
  const out = new Headers();
  const connection = incoming.get("connection");
  const named = connection
    ? new Set(connection.toLowerCase().split(",").map((s) => s.trim()))
    : undefined;
  for (const [name, value] of incoming) {
    if (RESPONSE_DROP.has(name) || named?.has(name)) continue;
    out.append(name, value);
  }
  return out;
}
