/**
 * Remix (and React Router framework mode) adapter: one function used as both `loader` and
 * `action` of a splat route.
 *
 * @example `app/routes/api.openai.$.ts`
 * ```ts
 * import { createHandler } from "@keyward/keyward/remix";
 *
 * export const loader = createHandler("routes.yaml");
 * export const action = loader;
 * ```
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput, GatewayOptions } from "../library.ts";
import { lazyFetch } from "./lazy.ts";

/** A Remix loader/action: `({ request, context }) => Response`. */
export type RemixHandler = (
  args: { request: Request; context?: unknown; [key: string]: unknown },
) => Promise<Response>;

/**
 * Creates the loader/action.
 *
 * Remix does not tell a loader the client's address. `auth: none` routes count by
 * `context.clientAddress` when the server's `getLoadContext` sets it (with Express:
 * `getLoadContext: (req) => ({ clientAddress: req.socket.remoteAddress })`), else by the
 * forwarding headers when `server.trust_forwarded` is set, else as one client ("unknown").
 */
export function createHandler(
  config: GatewayInput,
  hooks?: GatewayHooks,
  options?: GatewayOptions,
): RemixHandler {
  const handle = lazyFetch(config, hooks, options);
  return ({ request, context }) => {
    const address = (context as { clientAddress?: unknown } | undefined)?.clientAddress;
    return handle(
      request,
      typeof address === "string" && address ? { remoteAddr: { hostname: address } } : undefined,
    );
  };
}
