/**
 * The allow stage: a method and path outside the route's allow list (compiled at load, see
 * `allow_list.ts`) is refused with 403 and never reaches the upstream.
 *
 * @module
 */
import type { Stage } from "../stage.ts";
import type { AllowMatcher } from "./allow_list.ts";
import type { UpstreamVariables } from "./resolve.ts";

/**
 * The stage that refuses (403) any method and path outside `allowed`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { allowStage } from "./allow.ts";
 * import { compileAllow } from "./allow_list.ts";
 *
 * const allow = allowStage(compileAllow(["POST /v1/chat/completions"]), "openai");
 *
 * const request = new Request("http://gateway/openai/v1/files", { method: "POST" });
 * const exchange = new Exchange(request, undefined, "req-1", "", "/openai/v1/files", () => {});
 * // with what the resolve stage published: where the request goes
 * const x = Object.assign(exchange, {
 *   upstream: { url: new URL("https://api.openai.com/v1/files"), path: "/v1/files" },
 * });
 * const answer = await allow(x, () => Promise.resolve(new Response("sent")));
 * assert.equal(answer.status, 403); // not listed: never sent
 * ```
 */
export function allowStage(allowed: AllowMatcher, route: string): Stage<UpstreamVariables> {
  return (x, next) => {
    const path = x.upstream.path;
    const method = x.request.method;
    if (!allowed(method, path)) {
      return Promise.resolve(
        x.refuse("not_allowed", `${method} ${path} is not allowed on route ${route}`),
      );
    }
    return next();
  };
}
