/**
 * CORS for browser apps, answered by the gateway: preflights never reach an upstream, only
 * the configured origins (matched exactly) get CORS headers, and with CORS configured a
 * cross-origin request from any other origin is refused before it costs anything.
 *
 * @module
 */
import type { CorsConfig } from "../config/types.ts";
import type { Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import type { HeaderRecord } from "../proxy/headers.ts";

/** How long browsers may cache a preflight, unless `max_age` says otherwise. */
const DEFAULT_MAX_AGE_MS = 600_000;
const METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/** A preflight's answer depends on the origin and on what it asks for. */
const PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
/** Response headers a browser app reads: the request id and the limit headers. */
const EXPOSED = [
  "x-request-id",
  "retry-after",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "ratelimit-policy",
];

/**
 * Compiles `server.cors` into a rule that runs before routing.
 *
 * @example
 * ```ts
 * app.use(corsRule({ origins: ["http://localhost:3000"] }));
 * ```
 */
export function corsRule(config: CorsConfig): Rule {
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

  return async (c, next) => {
    const request = c.req.raw;
    const origin = request.headers.get("origin");
    if (origin === null) return await next();
    const allowed = any || origins.has(origin) || origin === new URL(request.url).origin;
    const preflight = request.method === "OPTIONS" &&
      request.headers.has("access-control-request-method");
    if (!allowed) {
      c.get("state").record.error = "origin not allowed";
      return errorResponse("forbidden", `Origin ${origin} is not allowed`);
    }
    if (preflight) {
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
    }
    const added = c.get("state").headers;
    allowOrigin(added, origin);
    added["access-control-expose-headers"] = exposed;
    await next();
  };
}
