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
import type { GatewayInput } from "../library.ts";
import { lazyFetch } from "./lazy.ts";

/** A SvelteKit `RequestHandler`: `(event) => Response`. */
export type SvelteHandler = (
  event: { request: Request; [key: string]: unknown },
) => Promise<Response>;

/** Creates the request handler. */
export function createHandler(config: GatewayInput, hooks?: GatewayHooks): SvelteHandler {
  const handle = lazyFetch(config, hooks);
  return (event) => handle(event.request);
}
