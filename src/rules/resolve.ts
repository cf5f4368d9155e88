/**
 * The resolve stage: works out where a request goes. In path mode, the part of the path under
 * the route's prefix joined to `upstream`; in target mode, the URL the client named. Either way
 * the path is checked for traversal tricks before any allow list sees it (`proxy/path.ts`), and
 * the upstream is sent the normal form of the path that is matched, never another spelling of
 * it. It publishes `upstream`: the URL to call and the decoded path the allow list is checked
 * against.
 *
 * Dot segments: in path mode the server has resolved them in the request's URL already, as the
 * URL standard does, so the path that is matched and forwarded is the resolved one. In target
 * mode the client writes the URL, and a dot segment in its path (`/files/.`, `/chats/%2e`) is
 * refused with 400 rather than resolved.
 *
 * @module
 */
import type { Stage } from "../stage.ts";
import { checkPath } from "../proxy/path.ts";
import { stripQuery } from "../proxy/query.ts";
import type { TargetResult } from "./target.ts";

/** Where a request goes. */
export interface Upstream {
  /** The URL to call (without the key). */
  readonly url: URL;
  /** The decoded upstream path, as the allow list and the body rules see it. */
  readonly path: string;
}

/** What the resolve stage publishes. */
export type UpstreamVariables = { upstream: Upstream };

/** What the resolve stage needs of a route. */
export interface ResolveSettings {
  /** The route's path prefix (path mode) or exact path (target mode). */
  readonly path: string;
  /** The upstream base URL, in path mode. */
  readonly upstream?: URL;
  /** Resolves the client's target URL, in target mode. */
  readonly target?: (url: URL, headers: Headers) => TargetResult;
  /** Query parameters never forwarded (credentials, account selectors, the target's own). */
  readonly dropQuery?: ReadonlySet<string>;
}

/**
 * Compiles a route's resolve stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { resolveStage } from "./resolve.ts";
 *
 * const resolve = resolveStage({ path: "/openai", upstream: new URL("https://api.openai.com") });
 *
 * const request = new Request("http://gateway/openai/v1/models?limit=5");
 * const x = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 * const answer = await resolve(x, ({ upstream }) => Promise.resolve(Response.json(upstream)));
 * assert.deepEqual(await answer.json(), {
 *   url: "https://api.openai.com/v1/models?limit=5", // the URL to call
 *   path: "/v1/models", // the path the allow list and the body rules see
 * });
 * ```
 */
export function resolveStage(route: ResolveSettings): Stage<unknown, UpstreamVariables> {
  // The client's credentials, account selectors and the target parameter never go upstream.
  const drop = route.dropQuery;
  if (route.target) {
    const target = route.target;
    return (x, next) => {
      const requestUrl = new URL(x.request.url);
      const result = target(requestUrl, x.request.headers);
      if (!result.ok) {
        return Promise.resolve(
          x.refuse(result.status === 400 ? "bad_target" : "target_not_allowed", result.message),
        );
      }
      // The path as written: the URL parser has resolved dot segments in `url.pathname`.
      const check = checkPath(result.path);
      if (!check.ok) return Promise.resolve(x.refuse("bad_path", check.reason));
      if (check.normal !== result.url.pathname) result.url.pathname = check.normal;
      if (drop) {
        const search = stripQuery(result.url.search, drop);
        if (search !== result.url.search) result.url.search = search;
      }
      x.target = result.url.host + result.url.pathname;
      return next({ upstream: { url: result.url, path: check.decoded } });
    };
  }
  const base = route.upstream!;
  // Everything before the path ("https://host:port"), then the base path: the upstream URL is
  // one string parsed once per request, not a copy of `base` with its path and query set.
  // The rest of the path comes from a parsed pathname (no query, fragment or backslash in
  // it), so it parses as the pathname setter would.
  const head = base.href.slice(
    0,
    base.href.length - base.pathname.length - base.search.length - base.hash.length,
  );
  const basePath = base.pathname.replace(/\/+$/, "");
  const prefix = route.path === "/" ? "" : route.path;
  return (x, next) => {
    const requestUrl = new URL(x.request.url);
    const raw = requestUrl.pathname;
    if (!raw.startsWith(prefix) || (raw.length > prefix.length && raw[prefix.length] !== "/")) {
      return Promise.resolve(
        x.refuse("bad_path", "The route prefix must not be percent-encoded"),
      );
    }
    const rest = raw.slice(prefix.length) || "/";
    const check = checkPath(rest);
    if (!check.ok) return Promise.resolve(x.refuse("bad_path", check.reason));
    const search = drop ? stripQuery(requestUrl.search, drop) : requestUrl.search;
    const url = new URL(head + basePath + check.normal + search);
    return next({ upstream: { url, path: check.decoded } });
  };
}
