/**
 * Works out where a request goes: in path mode the part of the path under the route's prefix
 * joined to `upstream`; in target mode the URL the client named. Either way the path is
 * checked for traversal tricks before any allow list sees it.
 *
 * @module
 */
import type { Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import { checkPath } from "../proxy/path.ts";
import { stripQuery } from "../proxy/query.ts";
import type { CompiledRoute } from "../route.ts";

/**
 * Compiles the rule that sets `state.upstreamUrl` and `state.upstreamPath` for a route.
 *
 * @example
 * ```ts
 * app.all("/openai/*", resolveRule(route), allowRule(route), handler);
 * ```
 */
export function resolveRule(route: CompiledRoute): Rule {
  // The client's credentials, account selectors and the target parameter never go upstream.
  const drop = route.dropQuery;
  if (route.target) {
    const target = route.target;
    return async (c, next) => {
      const requestUrl = new URL(c.req.url);
      const result = target(requestUrl, c.req.raw.headers);
      if (!result.ok) {
        return errorResponse(
          result.status === 400 ? "invalid_request" : "forbidden",
          result.message,
        );
      }
      const check = checkPath(result.url.pathname);
      if (!check.ok) return errorResponse("invalid_request", check.reason);
      const state = c.get("state");
      if (drop) {
        const search = stripQuery(result.url.search, drop);
        if (search !== result.url.search) result.url.search = search;
      }
      state.upstreamUrl = result.url;
      state.upstreamPath = check.decoded;
      state.record.target = result.url.host + result.url.pathname;
      await next();
    };
  }
  const base = route.upstream!;
  // Everything before the path ("https://host:port"), then the base path: the upstream URL is
  // one string parsed once per request, not a copy of `base` with its path and query set.
  // The rest of the path comes from a parsed pathname (no query, fragment or backslash in
  // it), so it parses as the pathname setter would.
  const head = base.href.slice(
    0,
    base.href.length - base.pathname.length - base.search.length -
      base.hash.length,
  );
  const basePath = base.pathname.replace(/\/+$/, "");
  const prefix = route.path === "/" ? "" : route.path;
  return async (c, next) => {
    const requestUrl = new URL(c.req.url);
    const raw = requestUrl.pathname;
    if (!raw.startsWith(prefix) || (raw.length > prefix.length && raw[prefix.length] !== "/")) {
      return errorResponse("invalid_request", "The route prefix must not be percent-encoded");
    }
    const rest = raw.slice(prefix.length) || "/";
    const check = checkPath(rest);
    if (!check.ok) return errorResponse("invalid_request", check.reason);
    const search = drop ? stripQuery(requestUrl.search, drop) : requestUrl.search;
    const url = new URL(head + basePath + rest + search);
    const state = c.get("state");
    state.upstreamUrl = url;
    state.upstreamPath = check.decoded;
    await next();
  };
}
