/**
 * The shape of a preset: what `preset: NAME` fills in on a route.
 *
 * @module
 */

/**
 * One place a client's token may travel: a header (with an auth scheme before it, or bare), a
 * WebSocket subprotocol that starts with a prefix (browsers cannot set headers on a socket),
 * or a query parameter of a WebSocket upgrade (what a provider's browser client sends).
 */
export type TokenSource = HeaderTokenSource | ProtocolTokenSource | QueryTokenSource;

/** A token in a request header. */
export interface HeaderTokenSource {
  /** Header name, lower case. */
  header: string;
  /** Auth scheme before the token (`Bearer`, fal's `Key`), matched without regard to case. */
  scheme?: string;
}

/** A token in an offered WebSocket subprotocol: `openai-insecure-api-key.<token>`. */
export interface ProtocolTokenSource {
  /** What the subprotocol starts with; the token is the rest. */
  protocol: string;
}

/** A token in a query parameter, read on WebSocket upgrades only (`?key=<token>`). */
export interface QueryTokenSource {
  /** Parameter name (the route must also strip it: see {@linkcode Strip.query}). */
  query: string;
}

/** The kind of realtime protocol a WebSocket endpoint speaks, for the frame rules and meter. */
export type SocketProtocol = "openai" | "gemini";

/** A preset's WebSocket endpoints (see `src/realtime/`). */
export interface RealtimeEndpoints {
  /**
   * Allow-list entries (`GET /v1/realtime`) that are WebSocket endpoints, and the protocol
   * each speaks. A route proxies upgrades to those its allow list lets through.
   */
  sockets: Readonly<Record<string, SocketProtocol>>;
  /** The endpoint minting ephemeral keys for the provider's realtime API, if it has one. */
  secrets?: string;
}

/** What a visitor may send to one endpoint (see src/body/fields.ts). */
export interface EndpointFields {
  /** Top-level fields a visitor may set; every other field is refused. */
  fields: readonly string[];
  /** The field naming the app or agent the request runs, checked against `body.apps`. */
  ref?: string;
  /** Fields that would name the app or agent another way: refused when `body.apps` is set. */
  refAliases?: readonly string[];
  /**
   * The body declares one file to upload (`files: [{...}]`) with only these `fields`, the
   * `empty` ones left empty; `size` is required and capped by the route's `max_upload`.
   */
  upload?: { fields: readonly string[]; empty: readonly string[] };
}

/** A preset's body field policy: every body to a path it does not list is refused. */
export interface FieldPolicy {
  /** By path (allow-list glob syntax, without a method): what each endpoint takes. */
  endpoints: Readonly<Record<string, EndpointFields>>;
  /** A `GET` path naming an app or agent after `prefix`, checked against `body.apps`. */
  pathRef?: { glob: string; prefix: string };
  /** Largest upload a visitor may declare when the route sets no `max_upload`, in bytes. */
  maxUpload: number;
}

/** Which upstream response format reports token usage. */
export type UsageFormat = "openai" | "anthropic" | "gemini";

/**
 * What of the client's request never reaches the provider: every header and query parameter
 * the provider reads as a credential, or as the account, project or payer a request bills.
 * The client could otherwise pick who pays for its calls, or slip in a key of its own.
 */
export interface Strip {
  /** Request header names, lower case. */
  headers: readonly string[];
  /** Query parameter names, compared without regard to case or percent-encoding. */
  query: readonly string[];
}

/** What a preset fills in; a route's own values win over it, field by field. */
export interface Preset {
  /**
   * Whether a `GET` entry of the route's allow list allows `HEAD` too (default true). A preset
   * that stands in for an SDK's own proxy, which matches methods exactly, says false.
   */
  head?: boolean;
  /** Upstream base URL (path mode presets). */
  upstream?: string;
  /** Target mode defaults (browser SDK proxy protocols). */
  target?: { header?: string; query?: string; hosts: string[] };
  /** Key origin and injection. */
  key: { env: string; header?: string; format?: string; query?: string };
  /** Inference endpoints only: no files, fine-tuning, organization, billing or key admin. */
  allow: string[];
  /** How the upstream reports usage, for token limits and metrics. */
  usage?: UsageFormat;
  /** The client's credentials and account selectors, dropped before the request leaves. */
  strip: Strip;
  /**
   * Where the provider's SDKs put their key, besides `Authorization: Bearer` and `x-api-key`:
   * `auth: token` and `jwt` routes read the client's token there too.
   */
  clientToken?: readonly TokenSource[];
  /**
   * The endpoints that generate (`METHOD /glob`), each with the fields that hold its output
   * cap (`max_tokens`, `generationConfig.maxOutputTokens`; the first is added when the body
   * sets none, an empty list when the endpoint takes no cap). `body.max_tokens` clamps only
   * these, and `body.models` requires a model only in their bodies; every other endpoint's
   * body goes as sent unless it names a model the route does not allow.
   */
  generate: Readonly<Record<string, readonly string[]>>;
  /** The body fields visitors may set, per endpoint, compared as the upstream reads them. */
  fields?: FieldPolicy;
  /** The provider's realtime WebSocket endpoints. */
  realtime?: RealtimeEndpoints;
}
