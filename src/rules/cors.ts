/**
 * CORS for browser apps, compiled once from `server.cors`: which origins are listed, the
 * preflight answer the gateway gives itself (a preflight never reaches an upstream), and the
 * headers a listed origin needs to read any answer, errors included. Which requests are
 * refused is the browser guard's business (rules/browser.ts); this file only answers the
 * origins the guard lets through.
 *
 * @module
 */
import type { CorsConfig } from "../config/types.ts";
import type { HeaderRecord } from "../proxy/headers.ts";

/** How long browsers may cache a preflight, unless `max_age` says otherwise. */
const DEFAULT_MAX_AGE_MS = 600_000;
const METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/** A preflight's answer depends on the origin and on what it asks for. */
const PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
/**
 * Response headers a browser app reads: the request id, the limit headers, and the mark on a
 * refused visitor token that tells visitor.js to earn a new one.
 */
const EXPOSED = [
  "x-request-id",
  "x-keyward-visitor",
  "retry-after",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "ratelimit-policy",
];

/** `server.cors`, compiled. */
export interface Cors {
  /** True when `origins` holds `"*"`: any page may call. */
  readonly any: boolean;
  /** Whether `origin` (an `Origin` header's value) is listed. */
  allows(origin: string): boolean;
  /** The answer to a preflight from an allowed origin. */
  preflight(request: Request, origin: string): Response;
  /** Adds to `headers` what an allowed origin needs to read the answer. */
  decorate(headers: HeaderRecord, origin: string): void;
}

/**
 * Compiles `server.cors`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileCors } from "./cors.ts";
 *
 * const cors = compileCors({ origins: ["http://localhost:3000"] });
 * assert.equal(cors.allows("http://localhost:3000"), true);
 * assert.equal(cors.allows("https://evil.example"), false);
 *
 * const preflight = new Request("http://gateway/openai/v1/chat/completions", {
 *   method: "OPTIONS",
 *   headers: { "access-control-request-method": "POST" },
 * });
 * const answer = cors.preflight(preflight, "http://localhost:3000");
 * assert.equal(answer.status, 204);
 * assert.equal(answer.headers.get("access-control-allow-origin"), "http://localhost:3000");
 * ```
 */
export function compileCors(config: CorsConfig): Cors {
  const any = config.origins.includes("*");
  const origins = new Set(config.origins);
  const credentials = config.credentials === true;
  const allowHeaders = config.headers?.map((h) => h.toLowerCase()).join(", ");
  const maxAge = String(Math.round((config.max_age ?? DEFAULT_MAX_AGE_MS) / 1000));
  // With credentials "*" is a literal name, not a wildcard; without, expose everything.
  const exposed = credentials ? EXPOSED.join(", ") : "*";

  const allowOrigin = (headers: HeaderRecord, origin: string) => {
    headers["access-control-allow-origin"] = any ? "*" : origin;
    if (!any) headers.vary = "Origin";
    if (credentials) headers["access-control-allow-credentials"] = "true";
  };

  return {
    any,
    allows: (origin) => any || origins.has(origin),
    preflight(request, origin) {
      const headers: HeaderRecord = {};
      allowOrigin(headers, origin);
      headers["access-control-allow-methods"] = METHODS;
      const requested = request.headers.get("access-control-request-headers");
      // Without a configured list, the headers the preflight asks for are allowed: the origin
      // is trusted, and SDKs send headers of their own (x-stainless-*, anthropic-version).
      const allowHeadersValue = allowHeaders ?? requested;
      if (allowHeadersValue) headers["access-control-allow-headers"] = allowHeadersValue;
      headers["access-control-max-age"] = maxAge;
      if (!any) headers.vary = PREFLIGHT_VARY;
      return new Response(null, { status: 204, headers });
    },
    decorate(headers, origin) {
      allowOrigin(headers, origin);
      headers["access-control-expose-headers"] = exposed;
    },
  };
}
