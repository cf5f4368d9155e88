/**
 * Hono adapter: a handler to mount the gateway inside an existing Hono app, on whatever
 * runtime the app runs.
 *
 * The client's address, for `auth: none` routes, comes from what the runtime passes as the
 * app's bindings (`c.env`): the connection info of `Deno.serve`, the Node request of
 * `@hono/node-server` (`c.env.incoming.socket`), Bun's server (`requestIP`). Cloudflare
 * Workers pass no address: there, routes count by the forwarding headers when
 * `server.trust_forwarded` is set, else as one client ("unknown").
 *
 * On Workers, keys and `${VAR}`s are read from the bindings (`c.env.OPENAI_API_KEY`), then
 * from the process environment where there is one, unless `options.readers` says otherwise.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createHandler } from "@keyward/keyward/hono";
 *
 * const app = new Hono();
 * app.all("/api/*", createHandler("routes.yaml"));
 * export default app; // Deno.serve(app.fetch), Bun, Workers, or @hono/node-server
 * ```
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput, GatewayOptions } from "../library.ts";
import { type FetchHandler, lazyFetch } from "./lazy.ts";
import type { ConnInfo } from "../auth/client_ip.ts";
import { defaultReaders } from "../keys/source.ts";

/** The part of a Hono context the handler uses. */
export interface HonoContextLike {
  /** The request, with the raw web `Request`. */
  req: { raw: Request };
  /** The bindings: connection info, the Node request, Bun's server, or Workers' env. */
  env?: unknown;
}

/** A Hono handler `(c) => Response`. */
export type HonoHandler = (c: HonoContextLike) => Promise<Response>;

/** The peer's address as the runtime under Hono tells it, or undefined. */
function connInfo(request: Request, env: unknown): ConnInfo | undefined {
  if (!env || typeof env !== "object") return undefined;
  if ("remoteAddr" in env) return env as ConnInfo; // Deno.serve
  const socket = (env as { incoming?: { socket?: { remoteAddress?: unknown } } }).incoming?.socket;
  if (socket) return { remoteAddr: { hostname: socket.remoteAddress } }; // @hono/node-server
  const requestIP = (env as { requestIP?: unknown }).requestIP;
  if (typeof requestIP === "function") { // Bun.serve
    const address = (requestIP.call(env, request) as { address?: unknown } | null)?.address;
    return { remoteAddr: { hostname: address } };
  }
  return undefined;
}

/** Workers' bindings are a plain object of strings and services; other runtimes' are not. */
function bindingsOf(env: unknown): Record<string, unknown> | undefined {
  if (!env || typeof env !== "object") return undefined;
  const proto = Object.getPrototypeOf(env);
  if (proto !== Object.prototype && proto !== null) return undefined;
  if ("remoteAddr" in env || "incoming" in env) return undefined;
  return env as Record<string, unknown>;
}

/**
 * Creates a Hono handler; config route paths are full paths as the outer app sees them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { createHandler } from "@keyward/keyward/hono";
 *
 * const app = new Hono();
 * const config = `
 * routes:
 *   - name: openai
 *     path: /api/openai
 *     preset: openai
 * `;
 * app.all("/api/*", createHandler(config, undefined, { log: () => {} }));
 *
 * const answer = await app.request("/api/openai/v1/files");
 * assert.equal(answer.status, 403); // not in the openai preset's allow list: never sent
 * ```
 */
export function createHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options: GatewayOptions = {},
): HonoHandler {
  // The gateway is built on the first request, the first moment the bindings are known.
  let bindings: Record<string, unknown> | undefined;
  const env = (name: string) => {
    const bound = bindings?.[name];
    return typeof bound === "string" ? bound : defaultReaders.env(name);
  };
  const readers = { ...options.readers, env: options.readers?.env ?? env };
  let handle: FetchHandler | undefined;
  return (c) => {
    if (!handle) {
      bindings = bindingsOf(c.env);
      handle = lazyFetch(config, hooks, { ...options, readers });
    }
    return handle(c.req.raw, connInfo(c.req.raw, c.env));
  };
}
