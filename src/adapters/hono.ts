/**
 * Hono adapter: a handler to mount the gateway inside an existing Hono app.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createHandler } from "@keyward/keyward/hono";
 *
 * const app = new Hono();
 * app.all("/api/*", createHandler("routes.yaml"));
 * ```
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput } from "../library.ts";
import { lazyFetch } from "./lazy.ts";
import type { ConnInfo } from "../auth/client_ip.ts";

/** The part of a Hono context the handler uses. */
export interface HonoContextLike {
  /** The request, with the raw web `Request`. */
  req: { raw: Request };
  /** The bindings: under `Deno.serve(app.fetch)`, the connection info with the peer address. */
  env?: unknown;
}

/** A Hono handler `(c) => Response`. */
export type HonoHandler = (c: HonoContextLike) => Promise<Response>;

/** Creates a Hono handler; config route paths are full paths as the outer app sees them. */
export function createHandler(config: GatewayInput, hooks?: GatewayHooks): HonoHandler {
  const handle = lazyFetch(config, hooks);
  return (c) => handle(c.req.raw, c.env as ConnInfo | undefined);
}
