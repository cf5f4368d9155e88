/**
 * The validated shape of routes.yaml, written out so the library's public types are explicit.
 * `schema.ts` checks at compile time that its zod output is assignable to these.
 *
 * @module
 */
import type { Rate } from "./units.ts";
import type { UsageKind } from "./usage_kinds.ts";

/** One key origin inside a pool. */
export type KeyOrigin = { env: string } | { file: string };

/** Where a route's key comes from and how it is injected. */
export interface KeyConfig {
  /** Environment variable holding the key. */
  env?: string;
  /** File holding the key (trimmed). */
  file?: string;
  /** Several keys used in turn. */
  pool?: KeyOrigin[];
  /** Header that carries the key (default `authorization`). */
  header?: string;
  /** Header value with `{key}` (default `Bearer {key}`). */
  format?: string;
  /** Query parameter that carries the key instead of a header. */
  query?: string;
}

/** JWT client authentication. */
export interface JwtConfig {
  /** HS256 shared secret. */
  secret?: string;
  /** JSON Web Key Set URL. */
  jwks?: string;
  /** Required `iss`. */
  issuer?: string;
  /** Required `aud`. */
  audience?: string | string[];
}

/** Forward authentication against the app's own session endpoint. */
export interface ForwardAuthConfig {
  /** The session endpoint. */
  url: string;
  /** Response header naming the client. */
  client_header?: string;
  /** How long an answer is reused, in milliseconds. */
  cache?: number;
}

/** A route's (or the server's default) client authentication. */
export type AuthConfig =
  | "none"
  | "token"
  | "visitor"
  | { jwt: JwtConfig }
  | { forward: ForwardAuthConfig };

/** Limits per client. */
export interface LimitsConfig {
  /** Requests per window. */
  requests?: Rate;
  /** In-flight requests. */
  concurrent?: number;
  /** Upstream-reported tokens per window. */
  tokens?: Rate;
  /** Request body cap in bytes (bodies read by body rules: 4 MiB unless set). */
  body?: number;
  /** Upstream first-byte (and idle) timeout in milliseconds. */
  timeout?: number;
  /**
   * How long a request that would get 429 for `concurrent` or a cooling key pool waits for its
   * turn instead, in milliseconds (a route's own setting).
   */
  queue?: number;
  /** Dollars per window, in units of 1e-8 USD: reserved before, settled after, like tokens. */
  spend?: Rate;
  /** The longest a WebSocket session stays open, in milliseconds (`limits.session`). */
  session?: number;
}

/** `limits.route`: the owner's ceiling for all clients of a route together. */
export interface RouteCeilingConfig {
  /** Requests per window, all clients together. */
  requests?: Rate;
  /** Requests in flight, all clients together. */
  concurrent?: number;
  /** Upstream-reported tokens per window, all clients together. */
  tokens?: Rate;
  /** Dollars per window (units of 1e-8 USD), all clients together. */
  spend?: Rate;
}

/** A route's limits: its clients' limits, and the ceiling for them all together. */
export interface RouteLimitsConfig extends LimitsConfig {
  /** The ceiling for all clients of the route together. */
  route?: RouteCeilingConfig;
}

/**
 * A model's prices in USD per million tokens of each kind (see `usage_kinds.ts`), as exact
 * decimal strings (at most 8 decimals). A kind left out falls back to `input` (input kinds) or
 * `output` (output kinds); `context_window`, when given, bounds the input of a request whose
 * size cannot be known.
 */
export type PriceConfig =
  & { input: string; output: string; context_window?: number }
  & { [K in Exclude<UsageKind, "input" | "output">]?: string };

/** `server.alerts`: who hears when a budget crosses a fraction of itself. */
export interface AlertsConfig {
  /** The URL a JSON notice is POSTed to. */
  webhook: string;
  /** The fractions of a budget that raise a notice, once each per window (0.8 and 1 by default). */
  at: number[];
}

/** Rules over JSON request bodies. */
export interface BodyRulesConfig {
  /** Allowed values of `model`. */
  models?: string[];
  /** Clamp for max_tokens and its relatives. */
  max_tokens?: number;
  /**
   * `METHOD /glob` entries of the endpoints that generate: where `max_tokens` clamps (in the
   * preset's field for the endpoint, else the `usage` format's) and a body must name a model.
   * Default: the preset's generating endpoints; every endpoint on a route without a preset.
   */
  generate?: string[];
  /** Case-insensitive regexes refused in message text. */
  deny?: string[];
  /** `namespace/name` globs of the apps and agents visitors may run (inference.sh). */
  apps?: string[];
  /** Largest file, in bytes, a visitor may declare in an upload (inference.sh). */
  max_upload?: number;
}

/** Target mode settings; on a preset route, each field left out is the preset's. */
export interface TargetSettings {
  /** Header holding the target URL. */
  header?: string;
  /** Query parameter holding the target URL. */
  query?: string;
  /** Allowed hosts. */
  hosts?: string[];
}

/** One route. */
export interface RouteConfig {
  /** Unique name, used in logs and metrics. */
  name: string;
  /** Path prefix (path mode) or exact path (target mode). */
  path: string;
  /** Upstream base URL (path mode). */
  upstream?: string;
  /** A preset that fills upstream, key injection, allow list and usage parsing. */
  preset?: "openai" | "anthropic" | "gemini" | "inference.sh" | "fal";
  /** Target mode settings. */
  target?: TargetSettings;
  /** Key origin and injection. */
  key?: KeyConfig;
  /** `METHOD /glob` entries. */
  allow?: string[];
  /** Client authentication. */
  auth?: AuthConfig;
  /** Limits per client, and the route's ceiling for all of them. */
  limits?: RouteLimitsConfig;
  /** Rules over JSON request bodies. */
  body?: BodyRulesConfig;
  /** Extra headers sent upstream. */
  headers?: Record<string, string>;
  /** How the upstream reports usage. */
  usage?: "openai" | "anthropic" | "gemini";
}

/** CORS for browser apps. */
export interface CorsConfig {
  /** Exact origins, or `*`. */
  origins: string[];
  /** Whether credentials are allowed. */
  credentials?: boolean;
  /** Allowed request headers (default: whatever a preflight asks for). */
  headers?: string[];
  /** Preflight cache time in milliseconds. */
  max_age?: number;
}

/** The server's timeouts for quiet clients, in milliseconds. */
export interface TimeoutsConfig {
  /** Time a new connection has to send its first request head. */
  header?: number;
  /** Longest silence while a request body arrives. */
  body?: number;
  /** Time a kept-alive connection may wait for its next request. */
  idle?: number;
}

/** The `server:` section. */
export interface ServerConfig {
  /** Port to listen on. */
  port?: number;
  /** Address to listen on. */
  hostname?: string;
  /** Take the client IP from forwarding headers. */
  trust_forwarded?: boolean;
  /** CORS. */
  cors?: CorsConfig;
  /** Path of the Prometheus metrics endpoint. */
  metrics?: string;
  /** Path of the status page (HTML to a browser, JSON otherwise). */
  status?: string;
  /** Who may see each client's usage on the status page. */
  admin?: AdminConfig;
  /** Default auth for every route. */
  auth?: AuthConfig;
  /** Timeouts for quiet clients. */
  timeouts?: TimeoutsConfig;
  /** Shutdown drain bound in milliseconds. */
  drain?: number;
  /**
   * False refuses WebSocket upgrades (503), so the standalone server keeps its protected
   * listener even when routes name socket endpoints (see docs/realtime.md).
   */
  websockets?: boolean;
  /** Bytes of request bodies held whole for body rules, across all requests at once. */
  body_memory?: number;
  /** Budget alerts. */
  alerts?: AlertsConfig;
  /** Anonymous visitors earning tokens by proof of work or Turnstile (`auth: visitor`). */
  visitors?: VisitorsConfig;
}

/** `server.visitors.proof_of_work`: the puzzle a browser solves for a token. */
export interface ProofOfWorkConfig {
  /** Target solve time in a browser, in seconds: the base difficulty is `seconds × 1500`. */
  seconds: number;
}

/** `server.visitors.turnstile`: Cloudflare Turnstile answers checked with siteverify. */
export interface TurnstileConfig {
  /** The widget's secret key. */
  secret: string;
  /** The siteverify URL (Cloudflare's by default; a stand-in in tests). */
  verify_url: string;
  /** Host names the widget may have run on (siteverify's `hostname`); any when left out. */
  hostnames?: string[];
}

/** `server.visitors`: tokens for visitors without accounts. */
export interface VisitorsConfig {
  /** Signs visitor tokens (HS256), 32 bytes or more. */
  secret: string;
  /** The puzzle; on unless only `turnstile` is set. */
  proof_of_work?: ProofOfWorkConfig;
  /** Turnstile, instead of or as well as the puzzle. */
  turnstile?: TurnstileConfig;
  /**
   * With both: `either` (a solved challenge or a Turnstile answer earns a token) or `both`
   * (each token request carries both).
   */
  earn_with: "either" | "both";
  /** How long a token lives, in milliseconds. */
  ttl: number;
  /** Tokens an address prefix (IPv4 /24, IPv6 /64) may earn per window. */
  per_address: Rate;
}

/** `server.admin`: a request bearing this token sees every client's usage on the status page. */
export interface AdminConfig {
  /** Hex sha256 of the admin token. */
  token_sha256: string;
}

/** The `store:` section. */
export type StoreConfig =
  | { kind: "memory" }
  // Exactly one of `url` (one server, `redis://` or `rediss://`) and `cluster` (URLs of some or
  // all of a Redis Cluster's nodes; the rest are discovered).
  | { kind: "redis"; url?: string; cluster?: string[] }
  | { kind: "kv"; path?: string };

/** One client of `auth: token` routes. */
export interface ClientConfig {
  /** Client id, used as the limit key and in logs. */
  id: string;
  /** The token in clear (from the environment, preferably). */
  token?: string;
  /** The token's sha256 in hex. */
  token_sha256?: string;
  /** Per-client limits that override a route's. */
  limits?: LimitsConfig;
}

/** The whole routes.yaml after validation. */
export interface Config {
  /** Config format version. */
  version?: 1;
  /** Server settings. */
  server?: ServerConfig;
  /** Counter store for limits. */
  store?: StoreConfig;
  /** Token clients. */
  clients?: ClientConfig[];
  /** Prices by model, over the built-in table. */
  prices?: Record<string, PriceConfig>;
  /** The routes. */
  routes: RouteConfig[];
}
