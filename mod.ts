/**
 * keyward as a library: `createGateway(config, hooks?)` returns a `fetch` handler and the
 * Hono `app`, for mounting inside an existing server.
 *
 * @example
 * ```ts
 * import { createGateway } from "@keyward/keyward";
 *
 * const gateway = await createGateway("routes.yaml");
 * if (import.meta.main) Deno.serve(gateway.fetch); // or any server that speaks Request/Response
 * ```
 *
 * @module
 */
export { createGateway } from "./src/library.ts";
export { MintError, mintToken } from "./src/auth/mint.ts";
export type { MintOptions } from "./src/auth/mint.ts";
export type { Gateway, GatewayInput, GatewayOptions, HonoApp } from "./src/library.ts";
export type { BuildOptions, GatewayHooks, RouteInfo } from "./src/gateway.ts";
export type { ResolveKeyHook } from "./src/keys/select.ts";
export type { AuthorizeHook } from "./src/auth/auth.ts";
export { OUTCOMES } from "./src/outcome.ts";
export type { OutcomeCode } from "./src/outcome.ts";
export type { KeyReaders } from "./src/keys/source.ts";
export type { ConnInfo } from "./src/auth/client_ip.ts";
export type { LimitStore, Reservation, RouteCounts, WindowCount } from "./src/store/store.ts";
export type { LogSink } from "./src/observe/log.ts";
export { USAGE_KINDS } from "./src/config/usage_kinds.ts";
export type { UsageKind } from "./src/config/usage_kinds.ts";
export type {
  AdminConfig,
  AlertsConfig,
  AuthConfig,
  BodyRulesConfig,
  ClientConfig,
  Config,
  CorsConfig,
  ForwardAuthConfig,
  JwtConfig,
  KeyConfig,
  KeyOrigin,
  LimitsConfig,
  PriceConfig,
  ProofOfWorkConfig,
  RouteCeilingConfig,
  RouteConfig,
  RouteLimitsConfig,
  ServerConfig,
  StoreConfig,
  TargetSettings,
  TimeoutsConfig,
  TurnstileConfig,
  VisitorsConfig,
} from "./src/config/types.ts";
export { ConfigError } from "./src/config/issues.ts";
export type { ConfigIssue } from "./src/config/issues.ts";
export type { RequestRecord } from "./src/observe/log.ts";
export type { SessionLog } from "./src/session_log.ts";
export type { BunServer } from "./src/library.ts";
export type {
  BunHandlers,
  BunServerLike,
  BunSocketLike,
  BunWebSocket,
} from "./src/realtime/bun.ts";
export type {
  NodeUpgradeListener,
  NodeUpgradeRequest,
  NodeUpgradeSocket,
} from "./src/realtime/node.ts";
export type { Rate } from "./src/config/units.ts";
