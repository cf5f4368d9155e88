/**
 * keyward as a library: `createGateway(config, hooks?)` returns a `fetch` handler and the
 * Hono `app`, for mounting inside an existing server.
 *
 * @module
 */
export { createGateway } from "./src/library.ts";
export type { Gateway, GatewayInput } from "./src/library.ts";
export type { GatewayHooks, RouteInfo } from "./src/gateway.ts";
export type { Config, RouteConfig } from "./src/config/schema.ts";
export { ConfigError } from "./src/config/load.ts";
export type { ConfigIssue } from "./src/config/load.ts";
export type { RequestRecord } from "./src/observe/log.ts";
