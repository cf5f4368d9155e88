/**
 * Next.js adapter: App Router route handlers, and a Pages Router API handler.
 *
 * @example App Router, `app/api/inference/proxy/route.ts`
 * ```ts
 * import { createHandler } from "@keyward/keyward/nextjs";
 *
 * export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = createHandler("routes.yaml");
 * ```
 *
 * @example Pages Router, `pages/api/openai/[...path].ts`
 * ```ts
 * import { createPagesHandler } from "@keyward/keyward/nextjs";
 *
 * export const config = { api: { bodyParser: false } };
 * export default createPagesHandler("routes.yaml");
 * ```
 *
 * @module
 */
import type { ServerResponse } from "node:http";
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput } from "../library.ts";
import { lazyFetch } from "./lazy.ts";
import { type NodeRequest, serveNode } from "./node_bridge.ts";

export type { NodeRequest };

/** An App Router route handler. */
export type RouteHandler = (request: Request) => Promise<Response>;

/** The App Router handlers, one per method. */
export interface RouteHandlers {
  /** GET handler. */
  GET: RouteHandler;
  /** POST handler. */
  POST: RouteHandler;
  /** PUT handler. */
  PUT: RouteHandler;
  /** PATCH handler. */
  PATCH: RouteHandler;
  /** DELETE handler. */
  DELETE: RouteHandler;
  /** OPTIONS handler (CORS preflights). */
  OPTIONS: RouteHandler;
}

/** Creates the App Router handlers; every method goes through the same gateway. */
export function createHandler(config: GatewayInput, hooks?: GatewayHooks): RouteHandlers {
  const handle: RouteHandler = lazyFetch(config, hooks);
  return { GET: handle, POST: handle, PUT: handle, PATCH: handle, DELETE: handle, OPTIONS: handle };
}

/** A Pages Router API handler. */
export type PagesHandler = (req: NodeRequest, res: ServerResponse) => Promise<void>;

/**
 * Creates a Pages Router API handler that streams both ways. Turn Next's body parser off
 * for the route (`bodyParser: false`) so uploads stream; if it is on, the parsed body is sent.
 */
export function createPagesHandler(config: GatewayInput, hooks?: GatewayHooks): PagesHandler {
  const handle = lazyFetch(config, hooks);
  return (req, res) => serveNode(req, res, handle);
}
