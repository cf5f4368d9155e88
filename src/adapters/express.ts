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
 * app.use("/api/inference/proxy", createHandler("routes.yaml"));
 * if (import.meta.main) app.listen(3000);
 * ```
 *
 * @module
 */
import type { ServerResponse } from "node:http";
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput, GatewayOptions } from "../library.ts";
import { lazyFetch } from "./lazy.ts";
import { type NodeRequest, serveNode } from "./node_bridge.ts";

export type { NodeRequest };

/** An Express request handler. */
export type ExpressHandler = (
  req: NodeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>;

/**
 * Creates an Express handler serving the gateway. Route paths in the config are matched
 * against the full request path (`req.originalUrl`), so they work under `app.use(prefix)`.
 * `auth: none` routes count by the peer's address (`req.socket`; forwarding headers when
 * `server.trust_forwarded` is set). Behind `compression()` each chunk is flushed, so an event
 * stream still arrives event by event.
 */
export function createHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): ExpressHandler {
  const handle = lazyFetch(config, hooks, options);
  return async (req, res, next) => {
    try {
      await serveNode(req, res, handle);
    } catch (error) {
      next(error);
    }
  };
}
