/**
 * The one gateway behind an adapter: built on the first request, shared by every later one.
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import { createGateway, type GatewayInput, type GatewayOptions } from "../library.ts";
import type { ConnInfo } from "../auth/client_ip.ts";

/** A `fetch`-shaped function that serves requests through one lazily built gateway. */
export type FetchHandler = (request: Request, info?: ConnInfo) => Promise<Response>;

/**
 * Returns a fetch handler whose gateway is built once, on first use. A config error is
 * raised on every request until fixed, so a broken config never serves silently.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "../config/load.ts";
 * import { lazyFetch } from "./lazy.ts";
 *
 * const handle = lazyFetch("routes.yaml"); // nothing is read yet
 * const response = await handle(new Request("http://localhost/healthz")); // built now, once
 * assert.equal(response.status, 200);
 *
 * const broken = lazyFetch("routes: []");
 * await assert.rejects(broken(new Request("http://localhost/healthz")), ConfigError);
 * ```
 */
export function lazyFetch(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): FetchHandler {
  let gateway: ReturnType<typeof createGateway> | undefined;
  return async (request, info) => {
    gateway ??= createGateway(config, hooks, options);
    return await (await gateway).fetch(request, info);
  };
}
