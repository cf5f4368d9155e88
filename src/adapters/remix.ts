/**
 * Remix (and React Router framework mode) adapter: one function used as both `loader` and
 * `action` of a splat route.
 *
 * @example `app/routes/api.openai.$.ts`
 * ```ts
 * import { createHandler } from "@keyward/keyward/remix";
 *
 * const handler = createHandler("routes.yaml");
 * export { handler as action, handler as loader };
 * ```
 *
 * @module
 */
import type { GatewayHooks } from "../gateway.ts";
import type { GatewayInput } from "../library.ts";
import { lazyFetch } from "./lazy.ts";

/** A Remix loader/action: `({ request }) => Response`. */
export type RemixHandler = (
  args: { request: Request; [key: string]: unknown },
) => Promise<Response>;

/** Creates the loader/action. */
export function createHandler(config: GatewayInput, hooks?: GatewayHooks): RemixHandler {
  const handle = lazyFetch(config, hooks);
  return ({ request }) => handle(request);
}
