/**
 * Express adapter: mount keyward as middleware. No body parser is needed (the body streams
 * through); if one already ran, its parsed body is sent on.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createHandler } from "@keyward/keyward/express";
 *
 * const app = express();
 * const keyward = createHandler("routes.yaml");
 * app.use(keyward);
 * if (import.meta.main) {
 *   const server = app.listen(3000);
 *   // WebSocket routes (realtime): Node shows handshakes to the server only
 *   server.on("upgrade", keyward.upgrade);
 * }
 * ```
 *
 * @module
 */
import type { ServerResponse } from "node:http";
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput, GatewayOptions } from "../library.ts";
import { lazyGateway } from "./lazy.ts";
import type { NodeUpgradeListener } from "../realtime/node.ts";
import { type NodeRequest, serveNode } from "./node_bridge.ts";

export type { NodeRequest };
export type {
  NodeUpgradeListener,
  NodeUpgradeRequest,
  NodeUpgradeSocket,
} from "../realtime/node.ts";

/**
 * An Express request handler; its `upgrade` is the Node server's `upgrade` listener for the
 * gateway's WebSocket routes (`server.on("upgrade", handler.upgrade)`).
 */
export type ExpressHandler =
  & ((
    req: NodeRequest,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ) => Promise<void>)
  & { upgrade: NodeUpgradeListener };

/**
 * Creates an Express handler serving the gateway. Route paths in the config are matched
 * against the full request path (`req.originalUrl`), so they work under `app.use(prefix)`.
 * `auth: none` routes count by the peer's address (`req.socket`; forwarding headers when
 * `server.trust_forwarded` is set). Behind `compression()` each chunk is flushed, so an event
 * stream still arrives event by event. WebSocket routes need the server's `upgrade` event:
 * `server.on("upgrade", handler.upgrade)` (the same gateway serves both).
 */
export function createHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): ExpressHandler {
  const gateway = lazyGateway(config, hooks, options);
  const handler = async (
    req: NodeRequest,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ) => {
    try {
      await serveNode(req, res, gateway.fetch);
    } catch (error) {
      next(error);
    }
  };
  return Object.assign(handler, { upgrade: gateway.upgrade });
}
