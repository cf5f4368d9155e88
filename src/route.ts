/**
 * A route compiled once at config load: presets merged in, allow list and target hosts
 * compiled, keys read, header sets built. Nothing here is computed per request.
 *
 * @module
 */
import {
  compileTokenReader,
  DEFAULT_TOKEN_SOURCES,
  presentedToken,
  type TokenReader,
} from "./auth/token.ts";
import { type Preset, PRESETS, type UsageFormat } from "./config/presets/mod.ts";
import { DEFAULT_TIMEOUT_MS } from "./config/defaults.ts";
import type { KeyConfig, RouteConfig, TargetSettings } from "./config/types.ts";
import { compileInjector, injectionName, type KeyInjector } from "./keys/inject.ts";
import { compileKeySource, type KeyReaders, type KeySource } from "./keys/source.ts";
import type { GenerateTable } from "./body/rules.ts";
import { requestDropSet } from "./proxy/headers.ts";
import { queryDropSet } from "./proxy/query.ts";
import type { ErrorShape } from "./proxy/sse.ts";
import { type AllowMatcher, compileAllow } from "./rules/allow_list.ts";
import { compileTarget, type TargetConfig, type TargetResult } from "./rules/target.ts";
import { type CompiledRealtime, compileRealtime } from "./realtime/endpoints.ts";

/** A route ready to serve. */
export interface CompiledRoute {
  /** The route's name. */
  readonly name: string;
  /** The path prefix (path mode) or exact path (target mode), without trailing slash. */
  readonly path: string;
  /** The validated route as written. */
  readonly config: RouteConfig;
  /** Upstream base URL in path mode. */
  readonly upstream?: URL;
  /** Resolves the target URL in target mode. */
  readonly target?: (url: URL, headers: Headers) => TargetResult;
  /** The merged target settings in target mode. */
  readonly targetConfig?: TargetConfig;
  /** The merged allow list as written. */
  readonly allowList: readonly string[];
  /** The compiled allow list. */
  readonly allow: AllowMatcher;
  /** The merged key settings, or undefined when the route injects no key. */
  readonly keyConfig?: KeyConfig;
  /** The route's keys, or undefined when it injects none. */
  readonly keys?: KeySource;
  /** Puts a key on the upstream request. */
  readonly inject: KeyInjector;
  /** True when the key travels in the query string. */
  readonly queryKey: boolean;
  /**
   * Request headers never forwarded on this route: the fixed list, the key's and target's
   * headers, and the preset's credential and account headers.
   */
  readonly dropHeaders: ReadonlySet<string>;
  /**
   * Query parameters never forwarded on this route (the key's, the target's, the preset's
   * credential and account parameters), lower case; undefined when there are none.
   */
  readonly dropQuery?: ReadonlySet<string>;
  /** Reads a `token` or `jwt` client's credential where the route's SDKs send their key. */
  readonly readToken: TokenReader;
  /** Milliseconds to wait for the upstream's first byte (and between bytes after). */
  readonly timeoutMs: number;
  /** How the upstream reports token usage, when known. */
  readonly usage?: UsageFormat;
  /** The preset's generating endpoints and where each takes its output cap. */
  readonly generate?: GenerateTable;
  /** Extra headers set on every upstream request. */
  readonly headers: readonly [string, string][];
  /**
   * The error shape of the last event of a stream cut short: the API the preset speaks
   * (OpenAI, Anthropic, Gemini), else keyward's own.
   */
  readonly errorShape: ErrorShape;
  /** Its realtime endpoints (WebSockets, ephemeral keys) that the allow list lets through. */
  readonly realtime: CompiledRealtime;
}

/** Merges a route's key section over its preset's. */
export function mergeKey(preset: Preset | undefined, own: KeyConfig | undefined) {
  if (!preset) return own;
  if (!own) return { ...preset.key } as KeyConfig;
  const hasOrigin = own.env !== undefined || own.file !== undefined || own.pool !== undefined;
  const base: KeyConfig = hasOrigin ? {} : { env: preset.key.env };
  if (own.query === undefined) {
    if (preset.key.query) base.query = preset.key.query;
    else {
      base.header = preset.key.header;
      base.format = preset.key.format;
    }
  }
  return { ...base, ...own } as KeyConfig;
}

/**
 * Merges a route's target section over its preset's, field by field: a route that names only
 * its hosts keeps the preset's header and EventSource query parameter.
 */
export function mergeTarget(
  preset: Preset | undefined,
  own: TargetSettings | undefined,
): TargetConfig | undefined {
  const base = preset?.target;
  if (!own) return base;
  const hosts = own.hosts ?? base?.hosts;
  if (!hosts) return undefined;
  const header = own.header ?? base?.header;
  const query = own.query ?? base?.query;
  return { ...(header ? { header } : {}), ...(query ? { query } : {}), hosts };
}

/**
 * Compiles one validated route.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileRoute } from "./route.ts";
 *
 * const route = compileRoute({ name: "openai", path: "/openai", preset: "openai" });
 * assert.equal(route.upstream?.href, "https://api.openai.com/");
 * assert.equal(route.allow("POST", "/v1/chat/completions"), true);
 * assert.equal(route.allow("GET", "/v1/files"), false);
 * ```
 */
export function compileRoute(
  config: RouteConfig,
  readers: KeyReaders = {},
): CompiledRoute {
  const preset = config.preset ? PRESETS[config.preset] : undefined;
  const keyConfig = mergeKey(preset, config.key);
  const targetConfig = config.upstream ? undefined : mergeTarget(preset, config.target);
  const upstreamText = config.upstream ?? (targetConfig ? undefined : preset?.upstream);
  const allowList = config.allow ?? preset?.allow ?? [];
  const keyNames = keyConfig ? injectionName(keyConfig) : {};
  const path = config.path.length > 1 ? config.path.replace(/\/+$/, "") : config.path;
  const allow = compileAllow(allowList, { head: preset?.head });
  return {
    name: config.name,
    path,
    config,
    upstream: upstreamText ? new URL(upstreamText) : undefined,
    target: targetConfig ? compileTarget(targetConfig) : undefined,
    targetConfig,
    allowList,
    allow,
    keyConfig,
    keys: keyConfig ? compileKeySource(keyConfig, readers) : undefined,
    inject: compileInjector(keyConfig ?? {}),
    queryKey: keyConfig?.query !== undefined,
    dropHeaders: requestDropSet([
      keyNames.header,
      targetConfig?.header,
      ...preset?.strip.headers ?? [],
      ...preset?.clientToken?.map((source) => "header" in source ? source.header : undefined) ??
        [],
    ]),
    dropQuery: queryDropSet([keyNames.query, targetConfig?.query, ...preset?.strip.query ?? []]),
    readToken: preset?.clientToken
      ? compileTokenReader([...DEFAULT_TOKEN_SOURCES, ...preset.clientToken])
      : presentedToken,
    timeoutMs: config.limits?.timeout ?? DEFAULT_TIMEOUT_MS,
    usage: config.usage ?? preset?.usage,
    generate: preset?.generate,
    headers: Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    errorShape: preset?.usage ?? "keyward",
    // Target mode names its upstream per request: its sockets are not proxied.
    realtime: upstreamText ? compileRealtime(preset?.realtime, allow) : {},
  };
}
