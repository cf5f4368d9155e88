/**
 * Header hygiene in both directions. Upstream requests carry neither the client's
 * credentials nor cookies, hop-by-hop headers, `host`, forwarding or trace headers, nor any
 * header whose name holds an underscore (as nginx drops them by default: a backend that reads
 * `_` as `-` would take `Transfer_Encoding` for framing, or `X_Api_Key` for a credential);
 * client responses carry no hop-by-hop headers and no upstream cookies.
 *
 * @module
 */
import { type Needles, redactText } from "./redact.ts";

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
  "sec-fetch-site",
  "sec-fetch-mode",
  "sec-fetch-dest",
  "sec-fetch-user",
  // a WebSocket handshake's own headers: an upgrade is proxied as a session (src/realtime/),
  // which opens its own; an offered subprotocol may hold the client's token
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  // method overrides (Google's APIs honour the first): a POST the allow list let through
  // must not become a DELETE upstream
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
];

const RESPONSE_DROP = new Set([...HOP_BY_HOP, "set-cookie", "set-cookie2", "content-length"]);

/**
 * Compiles the set of request header names to drop for a route: the fixed list plus the
 * route's own key header, target header and its preset's credential and account headers.
 */
export function requestDropSet(extra: readonly (string | undefined)[]): Set<string> {
  const set = new Set(REQUEST_DROP);
  for (const name of extra) if (name) set.add(name.toLowerCase());
  return set;
}

/**
 * Headers as a plain record, lower-case name to value: what the hot path builds and hands to
 * `fetch` and `Response`. Cheaper than a `Headers` object, which they would copy again.
 */
export type HeaderRecord = Record<string, string>;

/**
 * Makes records whose prototype chain ends in an empty object with no prototype: any header
 * name (`__proto__`, `constructor`) is just an own key, and nothing is inherited. Unlike
 * `Object.create(null)`, whose objects start as slow dictionaries, these keep V8's fast
 * layout: a `Response` built from one is about a microsecond cheaper.
 */
const Fields = function () {} as unknown as new () => HeaderRecord;
Fields.prototype = Object.create(null);

/**
 * An empty {@linkcode HeaderRecord}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerRecord } from "./headers.ts";
 *
 * const headers = headerRecord();
 * headers["__proto__"] = "x"; // an own key like any other
 * assert.ok(Object.hasOwn(headers, "__proto__"));
 * assert.equal(headers["constructor"], undefined); // nothing inherited
 * ```
 */
export function headerRecord(): HeaderRecord {
  return new Fields();
}

/** The header names a `Connection` header lists (hop-by-hop by the client's say-so). */
function connectionNamed(incoming: Headers): Set<string> | undefined {
  const connection = incoming.get("connection");
  return connection ? new Set(connection.toLowerCase().split(",").map((s) => s.trim())) : undefined;
}

/**
 * Copies the client's request headers for the upstream, leaving out `drop`, any header the
 * client named in `Connection`, and any name with an underscore.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestDropSet, upstreamHeaders } from "./headers.ts";
 *
 * const incoming = new Headers({
 *   "x-goog-api-key": "the client's own key",
 *   "content-type": "application/json",
 *   connection: "keep-alive, x-trace",
 *   "x-trace": "1",
 *   "transfer_encoding": "chunked", // read as framing by a backend that maps _ to -
 * });
 * const headers = upstreamHeaders(incoming, requestDropSet(["x-goog-api-key"]));
 * assert.deepEqual({ ...headers }, { "content-type": "application/json" });
 * ```
 */
export function upstreamHeaders(incoming: Headers, drop: ReadonlySet<string>): HeaderRecord {
  const out = headerRecord();
  const named = connectionNamed(incoming);
  // forEach, not for-of: the same combined pairs, without an iterator object per header.
  incoming.forEach((value, name) => {
    if (!drop.has(name) && !named?.has(name) && !name.includes("_")) out[name] = value;
  });
  return out;
}

/**
 * Copies the upstream's response headers for the client, without hop-by-hop headers,
 * cookies or a length the gateway may not keep, and with the key the request was sent with
 * (`needles`) redacted from every value.
 */
export function clientHeaders(incoming: Headers, needles?: Needles): HeaderRecord {
  const out = headerRecord();
  const named = connectionNamed(incoming);
  incoming.forEach((value, name) => {
    if (RESPONSE_DROP.has(name) || named?.has(name)) return;
    out[name] = needles ? redactText(value, needles) : value;
  });
  return out;
}

/**
 * Adds the gateway's own headers to a response header record: each replaces the upstream's
 * header of that name, except `vary`, which lists both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addHeaders, clientHeaders } from "./headers.ts";
 *
 * const upstream = new Headers({ vary: "Accept-Encoding", "set-cookie": "a=1" });
 * const headers = clientHeaders(upstream); // no cookies, no hop-by-hop headers
 * addHeaders(headers, { "x-request-id": "lx2-1", vary: "Origin" });
 * assert.equal(headers.vary, "Accept-Encoding, Origin");
 * assert.equal(headers["set-cookie"], undefined);
 * ```
 */
export function addHeaders(out: HeaderRecord, extra: HeaderRecord): void {
  for (const name in extra) {
    const value = extra[name];
    const had = name === "vary" ? out[name] : undefined;
    out[name] = had ? `${had}, ${value}` : value;
  }
}

/** {@linkcode addHeaders} for a `Headers` object (an answer the forwarder did not build). */
export function addToHeaders(out: Headers, extra: HeaderRecord): void {
  for (const name in extra) {
    if (name === "vary") out.append(name, extra[name]);
    else out.set(name, extra[name]);
  }
}
