/**
 * SvelteKit adapter: a `RequestHandler` for a `+server.ts` rest route.
 *
 * @example `src/routes/api/openai/[...path]/+server.ts`
 * ```ts
 * import { createHandler } from "@keyward/keyward/svelte";
 *
 * const handler = createHandler("routes.yaml");
 * export const GET = handler, POST = handler, PUT = handler, DELETE = handler, OPTIONS = handler;
 * ```
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput, GatewayOptions } from "../library.ts";
import { lazyFetch } from "./lazy.ts";

/** A SvelteKit `RequestHandler`: `(event) => Response`. */
export type SvelteHandler = (
  event: { request: Request; [key: string]: unknown },
) => Promise<Response>;

/** Creates the request handler; `auth: none` routes count by `getClientAddress()`. */
export function createHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): SvelteHandler {
  const handle = lazyFetch(config, hooks, options);
  return (event) => {
    // SvelteKit knows the client's address (behind its adapter's proxy settings too).
    const address = event.getClientAddress;
    let hostname: string | undefined;
    try {
      hostname = typeof address === "function" ? String(address()) : undefined;
    } catch {
      // some adapters cannot tell during prerendering
    }
    return handle(event.request, hostname ? { remoteAddr: { hostname } } : undefined);
  };
}
