/**
 * The one gateway behind an adapter: built on the first request, shared by every later one.
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import { createGateway, type GatewayInput, type GatewayOptions } from "../library.ts";
import type { ConnInfo } from "../auth/client_ip.ts";
import type { NodeUpgradeListener } from "../realtime/node.ts";

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
  return lazyGateway(config, hooks, options).fetch;
}

/** A lazily built gateway's request handler and Node `upgrade` listener, sharing it. */
export interface LazyGateway {
  /** Serves a request. */
  fetch: FetchHandler;
  /** Node's `upgrade` listener (see `realtime/node.ts`). */
  upgrade: NodeUpgradeListener;
}

/**
 * The fetch handler of {@linkcode lazyFetch} and a Node `upgrade` listener over the same
 * gateway, built on first use by either.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lazyGateway } from "./lazy.ts";
 *
 * const gateway = lazyGateway("routes.yaml");
 * const response = await gateway.fetch(new Request("http://localhost/healthz"));
 * assert.equal(response.status, 200);
 * // server.on("upgrade", gateway.upgrade) on a Node server hands it WebSocket handshakes
 * ```
 */
export function lazyGateway(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): LazyGateway {
  let gateway: ReturnType<typeof createGateway> | undefined;
  const built = () => gateway ??= createGateway(config, hooks, options);
  return {
    fetch: async (request, info) => await (await built()).fetch(request, info),
    upgrade: (request, socket, head) => {
      built().then(
        (ready) => ready.upgrade(request, socket, head),
        () => socket.destroy(),
      );
    },
  };
}
