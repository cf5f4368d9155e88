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
import type { GatewayInput, GatewayOptions } from "../library.ts";
import { lazyFetch } from "./lazy.ts";
import { type NodeRequest, serveNode } from "./node_bridge.ts";

export type { NodeRequest };

/** An App Router route handler; Next passes a `NextRequest`, which is a `Request`. */
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

/**
 * Creates the App Router handlers; every method goes through the same gateway.
 *
 * A route handler is not told the peer's address. Where the platform gives `request.ip`
 * (Next.js 14 and older, Vercel), `auth: none` routes count by it; otherwise they count by
 * the forwarding headers when `server.trust_forwarded` is set, and as one client ("unknown")
 * when it is not. Set it only behind a proxy that sets `x-forwarded-for`: `next start` fills
 * the header from the socket only when the client sent none.
 */
export function createHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): RouteHandlers {
  const fetch = lazyFetch(config, hooks, options);
  const handle: RouteHandler = (request) => {
    const ip = (request as { ip?: unknown }).ip;
    return fetch(
      request,
      typeof ip === "string" && ip ? { remoteAddr: { hostname: ip } } : undefined,
    );
  };
  return { GET: handle, POST: handle, PUT: handle, PATCH: handle, DELETE: handle, OPTIONS: handle };
}

/** A Pages Router API handler. */
export type PagesHandler = (req: NodeRequest, res: ServerResponse) => Promise<void>;

/**
 * Creates a Pages Router API handler that streams both ways. Turn Next's body parser off
 * for the route (`bodyParser: false`) so uploads stream; if it is on, the parsed body is sent.
 * `auth: none` routes count by the peer's address (`req.socket`); behind Next's compression
 * each chunk is flushed, so an event stream still arrives event by event.
 */
export function createPagesHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): PagesHandler {
  const handle = lazyFetch(config, hooks, options);
  return (req, res) => serveNode(req, res, handle);
}
