/**
 * The allow rule: a method and path outside the route's allow list (compiled at load, see
 * `allow_list.ts`) is refused with 403 and never reaches the upstream.
 *
 * @module
 */
import type { Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import type { CompiledRoute } from "../route.ts";

/**
 * The rule that refuses (403) any method and path outside the route's allow list; the
 * request never reaches the upstream.
 */
export function allowRule(route: CompiledRoute): Rule {
  const allowed = route.allow;
  const name = route.name;
  return async (c, next) => {
    const path = c.get("state").upstreamPath!;
    const method = c.req.method;
    if (!allowed(method, path)) {
      return errorResponse("forbidden", `${method} ${path} is not allowed on route ${name}`);
    }
    await next();
  };
}
