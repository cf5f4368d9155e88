/**
 * The key stage: picks the key a request goes out with (the app's `resolveKey` hook first,
 * then the route's keys, round robin over the healthy ones) and publishes it as `key`; a
 * route whose key is not configured answers 503.
 *
 * @module
 */
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import { Secret } from "./secret.ts";
import type { KeyEntry, KeySource } from "./source.ts";

/** What a hook learns about the route a request matched. */
export interface RouteInfo {
  /** The route's name. */
  name: string;
  /** The route's path. */
  path: string;
  /** The URL the request is about to be sent to (no key on it yet). */
  upstreamUrl: URL;
}

/**
 * Supplies the key for a request (a secrets manager, a per-tenant key); undefined falls back
 * to the route's configured key.
 */
export type ResolveKeyHook = (
  route: RouteInfo,
  request: Request,
) => string | undefined | Promise<string | undefined>;

/** What the key stage publishes: the key, or undefined on a route that injects none. */
export type KeyVariables = { key: KeyEntry | undefined };

/** What the key stage needs of a route. */
export interface KeySettings {
  /** The route's name. */
  readonly name: string;
  /** The route's path. */
  readonly path: string;
  /** The route's keys, or undefined when it injects none. */
  readonly keys?: KeySource;
}

/**
 * Compiles a route's key stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { keyStage } from "./select.ts";
 * import { compileKeySource } from "./source.ts";
 *
 * const keys = compileKeySource({ env: "OPENAI_API_KEY" }, { env: () => "sk-test" });
 * const stage = keyStage({ name: "openai", path: "/openai", keys });
 *
 * const request = new Request("http://gateway/openai/v1/models");
 * const exchange = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 * // with what the resolve stage published: where the request goes
 * const x = Object.assign(exchange, {
 *   upstream: { url: new URL("https://api.openai.com/v1/models"), path: "/v1/models" },
 * });
 * const answer = await stage(x, ({ key }) => Promise.resolve(new Response(key?.origin)));
 * assert.equal(await answer.text(), "env:OPENAI_API_KEY");
 * ```
 */
export function keyStage(
  route: KeySettings,
  resolveKey?: ResolveKeyHook,
): Stage<UpstreamVariables, KeyVariables> {
  const { name, path, keys } = route;
  const configured: Stage<UpstreamVariables, KeyVariables> = (x, next) => {
    const key = keys?.pick();
    if (!key && keys) {
      return Promise.resolve(x.refuse(
        "key_unavailable",
        `Route ${name} has no key configured`,
        undefined,
        undefined,
        keys.missing.join(", "),
      ));
    }
    return next({ key });
  };
  if (!resolveKey) return configured;
  return async (x, next) => {
    const value = await resolveKey({ name, path, upstreamUrl: x.upstream.url }, x.request);
    if (value) return next({ key: { origin: "hook", secret: new Secret(value) } });
    return configured(x, next);
  };
}
