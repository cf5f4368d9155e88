/**
 * The zod schema of routes.yaml (version 1). It rejects unknown keys, parses units into
 * numbers, and is the single source of the JSON Schema printed by `main.ts schema`.
 *
 * @module
 */
import { z } from "zod";
import { parseAllowEntry } from "./allow_entry.ts";
import { parseAppGlob } from "./app_glob.ts";
import { parseHostRule } from "./host_rule.ts";
import { isLoopback } from "./loopback.ts";
import { PRESET_NAMES, PRESETS } from "./presets/mod.ts";
import type { Config } from "./types.ts";
import { decimalOf, parseDuration, parseRate, parseSize, parseSpendRate } from "./units.ts";
import { USAGE_KINDS } from "./usage_kinds.ts";

export type {
  AuthConfig,
  Config,
  KeyConfig,
  LimitsConfig,
  RouteConfig,
  TargetSettings,
} from "./types.ts";

function unit<T>(parse: (text: string) => T, what: string) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parse(value as string);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message || `Invalid ${what}` });
      return z.NEVER;
    }
  });
}

/** A duration such as `30s`, parsed to milliseconds. */
const Duration = unit(parseDuration, "duration").describe("a duration: 500ms, 30s, 2m, 1h");
/** A size such as `1mb`, parsed to bytes. */
const Size = unit(parseSize, "size").describe("a size: 512kb, 1mb, 2gb");
/** A rate such as `60/min`, parsed to `{ limit, windowMs }`. */
const RateSchema = z.string().transform((value, ctx) => {
  try {
    return parseRate(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
}).describe("a rate: N/s, N/min, N/hour, N/day");
/** A spend rate such as `$2/day`, parsed to `{ limit, windowMs }` with `limit` in 1e-8 USD. */
const SpendSchema = z.string().transform((value, ctx) => {
  try {
    return parseSpendRate(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
}).describe("dollars per window: $2/day, $0.50/hour");
/** A price in USD per million tokens, kept as an exact decimal string. */
const PriceSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const text = typeof value === "number" ? decimalOf(value) ?? "" : value.trim();
  if (!/^\d+(\.\d{1,8})?$/.test(text)) {
    ctx.addIssue({
      code: "custom",
      message: `Cannot parse price "${value}": use USD per million tokens, up to 8 decimals`,
    });
    return z.NEVER;
  }
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}).describe("USD per million tokens");

function checked(parse: (text: string) => unknown) {
  return z.string().superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });
}

const KeyOrigin = z.union([
  z.strictObject({ env: z.string().min(1).describe("environment variable holding the key") }),
  z.strictObject({ file: z.string().min(1).describe("file holding the key (trimmed)") }),
]);

/** Where a route's upstream key comes from and how it is injected. */
const KeySchema = z.strictObject({
  env: z.string().min(1).optional().describe("environment variable holding the key"),
  file: z.string().min(1).optional().describe("file holding the key (trimmed)"),
  pool: z.array(KeyOrigin).min(1).optional().describe("several keys used in turn"),
  header: z.string().min(1).optional().describe("header that carries the key"),
  format: z.string().includes("{key}").optional().describe('header value, "{key}" is the key'),
  query: z.string().min(1).optional().describe("query parameter that carries the key instead"),
}).superRefine((key, ctx) => {
  const origins = [key.env, key.file, key.pool].filter((o) => o !== undefined).length;
  if (origins > 1) {
    ctx.addIssue({ code: "custom", message: "Use only one of env, file or pool" });
  }
  if (key.query !== undefined && (key.header !== undefined || key.format !== undefined)) {
    ctx.addIssue({ code: "custom", message: "Use either query or header/format, not both" });
  }
});

const JwtSchema = z.strictObject({
  secret: z.string().min(1).optional().describe("HS256 shared secret"),
  jwks: z.url().optional().describe("URL of a JSON Web Key Set"),
  issuer: z.string().optional(),
  audience: z.union([z.string(), z.array(z.string())]).optional(),
}).refine((jwt) => (jwt.secret === undefined) !== (jwt.jwks === undefined), {
  message: "Set exactly one of secret or jwks",
});

const ForwardSchema = z.strictObject({
  url: z.url().describe("the app's session endpoint"),
  client_header: z.string().min(1).optional().describe("response header naming the client"),
  cache: Duration.optional().describe("how long an answer is reused"),
});

/** A route's (or the server's default) client authentication. */
const AuthSchema = z.union([
  z.enum(["none", "token", "visitor"]),
  z.strictObject({ jwt: JwtSchema }),
  z.strictObject({ forward: ForwardSchema }),
]);

/** Limits per client on a route. */
const LimitsSchema = z.strictObject({
  requests: RateSchema.optional(),
  concurrent: z.number().int().positive().optional(),
  tokens: RateSchema.optional(),
  body: Size.optional().describe("request body cap (4mb for bodies that body rules read)"),
  timeout: Duration.optional(),
  queue: Duration.optional()
    .describe("wait this long for a turn instead of 429 (concurrent, cooling key pool)"),
  spend: SpendSchema.optional().describe("dollars per window, per client: $2/day"),
  session: Duration.optional().describe("the longest a WebSocket session stays open: 10m"),
});

/** The owner's ceiling for all clients of a route together. */
const RouteCeilingSchema = z.strictObject({
  requests: RateSchema.optional(),
  concurrent: z.number().int().positive().optional(),
  tokens: RateSchema.optional(),
  spend: SpendSchema.optional(),
});

/** A route's limits: per client, and `route` for all clients together. */
const RouteLimitsSchema = LimitsSchema.extend({
  route: RouteCeilingSchema.optional().describe("the ceiling for all clients together"),
});

/** A model's prices in USD per million tokens; a kind left out falls back to input or output. */
const ModelPriceSchema = z.strictObject({
  ...Object.fromEntries(USAGE_KINDS.map((kind) => [kind, PriceSchema.optional()])),
  input: PriceSchema,
  output: PriceSchema,
  context_window: z.number().int().positive().optional()
    .describe("input tokens at most, for requests whose input cannot be bounded"),
});

/** Rules over JSON request bodies. */
const BodyRulesSchema = z.strictObject({
  models: z.array(z.string().min(1)).min(1).optional(),
  max_tokens: z.number().int().positive().optional(),
  generate: z.array(checked(parseAllowEntry)).optional()
    .describe("endpoints where max_tokens clamps (default: the preset's generating ones)"),
  deny: z.array(z.string().min(1)).optional().describe("case-insensitive regexes"),
  apps: z.array(checked(parseAppGlob)).min(1).optional()
    .describe('apps and agents visitors may run: namespace/name, "*" within a part'),
  max_upload: Size.optional().describe("largest file a visitor may declare in an upload"),
}).superRefine((body, ctx) => {
  for (const [i, pattern] of (body.deny ?? []).entries()) {
    try {
      new RegExp(pattern, "i");
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        path: ["deny", i],
        message: `Cannot compile pattern: ${(error as Error).message}`,
      });
    }
  }
});

/**
 * Target mode: the client names the full upstream URL in a header or query parameter. On a
 * preset route each field left out is the preset's (checked on the route, merged).
 */
const TargetSchema = z.strictObject({
  header: z.string().min(1).optional().describe("header holding the target URL"),
  query: z.string().min(1).optional().describe("query parameter holding it (EventSource)"),
  hosts: z.array(checked(parseHostRule)).min(1).optional()
    .describe('exact hosts; "*.example.com"; "host:port"; the preset\'s when left out'),
});

/** One route: a path prefix (path mode) or a target header (target mode). */
const RouteSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "Use letters, digits, '_', '-' or '.'"),
  path: z.string().regex(/^\/[^?#\s]*$/, "Start with '/' and hold no query or spaces"),
  upstream: z.url({ protocol: /^https?$/ }).optional(),
  preset: z.enum(PRESET_NAMES).optional(),
  target: TargetSchema.optional(),
  key: KeySchema.optional(),
  allow: z.array(checked(parseAllowEntry)).optional()
    .describe("METHOD PATH-GLOB; * one segment, ** any; {ulid}, {uuid}, {name:REGEX} an id"),
  auth: AuthSchema.optional(),
  limits: RouteLimitsSchema.optional(),
  body: BodyRulesSchema.optional(),
  headers: z.record(z.string(), z.string()).optional().describe("extra headers sent upstream"),
  usage: z.enum(["openai", "anthropic", "gemini"]).optional()
    .describe("how the upstream reports tokens, when no preset says"),
}).superRefine((route, ctx) => {
  const preset = route.preset ? PRESETS[route.preset] : undefined;
  for (const setting of ["apps", "max_upload"] as const) {
    if (route.body?.[setting] !== undefined && !preset?.fields) {
      ctx.addIssue({
        code: "custom",
        path: ["body", setting],
        message: `Only a preset with a body field policy (inference.sh) takes body.${setting}`,
      });
    }
  }
  if (route.upstream !== undefined && route.target !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["target"],
      message: "Use upstream (path mode) or target (target mode), not both",
    });
  }
  if (route.target !== undefined) {
    const base = preset?.target;
    if ((route.target.hosts ?? base?.hosts) === undefined) {
      ctx.addIssue({ code: "custom", path: ["target", "hosts"], message: "Set hosts" });
    }
    const header = route.target.header ?? base?.header;
    if (header === undefined && (route.target.query ?? base?.query) === undefined) {
      ctx.addIssue({ code: "custom", path: ["target"], message: "Set header, query or both" });
    }
  }
  if (route.upstream === undefined && route.target === undefined && !preset) {
    ctx.addIssue({
      code: "custom",
      path: ["upstream"],
      message: "Set upstream (path mode), target (target mode) or a preset",
    });
  }
  if (route.allow === undefined && !preset) {
    ctx.addIssue({
      code: "custom",
      path: ["allow"],
      message: "Set allow: routes deny every path that is not listed",
    });
  }
  if (route.upstream !== undefined) {
    const url = new URL(route.upstream);
    if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
      ctx.addIssue({
        code: "custom",
        path: ["upstream"],
        message: "Upstream must use https (http only for loopback hosts)",
      });
    }
    if (url.username || url.password || url.search || url.hash) {
      ctx.addIssue({
        code: "custom",
        path: ["upstream"],
        message: "Upstream must not carry credentials, a query or a fragment",
      });
    }
  }
});

const CorsSchema = z.strictObject({
  origins: z.array(z.string().min(1)).min(1),
  credentials: z.boolean().optional(),
  headers: z.array(z.string()).optional()
    .describe("allowed request headers (default: what the preflight asks for)"),
  max_age: Duration.optional(),
}).refine((cors) => !(cors.credentials && cors.origins.includes("*")), {
  message: 'Use exact origins: "*" cannot be used with credentials',
});

/** A duration that must be more than zero. */
const Timeout = Duration.refine((ms) => ms > 0, "Use a duration above zero");

/** How long the standalone server waits on a quiet client before closing its connection. */
const TimeoutsSchema = z.strictObject({
  header: Timeout.optional().describe("time a new connection has to send a request head (60s)"),
  body: Timeout.optional().describe("longest silence while a request body arrives (60s)"),
  idle: Timeout.optional().describe(
    "time a kept-alive connection may wait for its next request (75s)",
  ),
});

/** Where Turnstile answers are checked unless `verify_url` says otherwise. */
export const TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/** `server.visitors`: tokens for visitors without accounts (`auth: visitor`). */
const VisitorsSchema = z.strictObject({
  secret: z.string().refine((secret) => new TextEncoder().encode(secret).length >= 32, {
    message: "Use a secret of 32 bytes or more (e.g. openssl rand -base64 32)",
  }).describe("signs visitor tokens (HS256), 32 bytes or more"),
  proof_of_work: z.strictObject({
    seconds: z.number().gt(0).lte(120)
      .describe("target solve time in a browser; the base difficulty is seconds × 1500"),
  }).optional().describe("argon2id proof of work (on unless only turnstile is set)"),
  turnstile: z.strictObject({
    secret: z.string().min(1).describe("the Turnstile widget's secret key"),
    verify_url: z.url({ protocol: /^https?$/ }).default(TURNSTILE_VERIFY_URL)
      .describe("the siteverify URL (a stand-in in tests)"),
    hostnames: z.array(z.string().min(1)).min(1).optional()
      .describe("host names the widget may have run on; any when left out"),
  }).optional().describe("Cloudflare Turnstile, instead of or as well as the proof of work"),
  earn_with: z.enum(["either", "both"]).default("either")
    .describe("with both set: either earns a token, or each token request carries both"),
  ttl: Duration.refine((ms) => ms >= 60_000 && ms <= 7 * 86_400_000, {
    message: "Use a token life between 1m and 7d",
  }).default(3_600_000).describe("how long a visitor token lives (1h)"),
  per_address: RateSchema.default({ limit: 20, windowMs: 3_600_000 })
    .describe("tokens an address prefix (IPv4 /24, IPv6 /64) may earn per window (20/hour)"),
}).transform((visitors) =>
  // Neither named: the puzzle at its default.
  visitors.proof_of_work || visitors.turnstile
    ? visitors
    : { ...visitors, proof_of_work: { seconds: 2 } }
);

/** The `server:` section. */
const ServerSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  hostname: z.string().min(1).optional(),
  trust_forwarded: z.boolean().optional(),
  cors: CorsSchema.optional(),
  metrics: z.string().regex(/^\//).optional(),
  status: z.string().regex(/^\//).optional()
    .describe("status page: HTML to a browser, JSON otherwise"),
  admin: z.strictObject({
    token_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "Use 64 hex digits"),
  }).optional().describe(
    "a request bearing this token sees each client's usage on the status page",
  ),
  auth: AuthSchema.optional(),
  timeouts: TimeoutsSchema.optional(),
  drain: Duration.optional().describe("how long shutdown waits for in-flight requests"),
  websockets: z.boolean().optional()
    .describe("false: refuse WebSocket upgrades (503) and keep the listener's timeouts"),
  body_memory: Size.optional()
    .describe("bytes of request bodies held for body rules across all requests (64mb)"),
  alerts: z.strictObject({
    webhook: z.url({ protocol: /^https?$/ }).describe("where a JSON notice is POSTed"),
    at: z.array(z.number().gt(0).lte(1)).min(1).default([0.8, 1])
      .describe("fractions of a budget that raise a notice, once per window"),
  }).optional().describe("notices when a client's or a route's budget crosses a fraction"),
  visitors: VisitorsSchema.optional()
    .describe("tokens for visitors without accounts, earned by proof of work or Turnstile"),
});

const RedisUrl = z.string().regex(/^rediss?:\/\//, "Use a redis:// or rediss:// URL");

/** The `store:` section. */
const StoreSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("memory") }),
  z.strictObject({
    kind: z.literal("redis"),
    url: RedisUrl.optional().describe("one Redis server"),
    cluster: z.array(RedisUrl).min(1).optional()
      .describe("a Redis Cluster: some or all of its nodes, instead of url"),
  }).refine((s) => (s.url === undefined) !== (s.cluster === undefined), {
    message: "Set exactly one of url or cluster",
  }).meta({ oneOf: [{ required: ["url"] }, { required: ["cluster"] }] }),
  z.strictObject({ kind: z.literal("kv"), path: z.string().min(1).optional() }),
]);

/** One client allowed to call `auth: token` routes. */
const ClientSchema = z.strictObject({
  id: z.string().min(1),
  token: z.string().min(1).optional(),
  token_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "Use 64 hex digits").optional(),
  limits: LimitsSchema.optional(),
}).refine((c) => (c.token === undefined) !== (c.token_sha256 === undefined), {
  message: "Set exactly one of token or token_sha256",
});

/** The whole routes.yaml. */
const configSchema = z.strictObject({
  version: z.literal(1).optional(),
  server: ServerSchema.optional(),
  store: StoreSchema.optional(),
  clients: z.array(ClientSchema).optional(),
  prices: z.record(z.string().min(1), ModelPriceSchema).optional()
    .describe("USD per million tokens by model, over the built-in table"),
  routes: z.array(RouteSchema).min(1),
}).superRefine((config, ctx) => {
  const names = new Map<string, number>();
  const paths = new Map<string, number>();
  config.routes.forEach((route, i) => {
    const path = route.path.length > 1 ? route.path.replace(/\/+$/, "") : route.path;
    if (names.has(route.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["routes", i, "name"],
        message: `Route name "${route.name}" is already used by routes[${names.get(route.name)}]`,
      });
    } else names.set(route.name, i);
    if (paths.has(path)) {
      ctx.addIssue({
        code: "custom",
        path: ["routes", i, "path"],
        message: `Path "${path}" is already used by routes[${paths.get(path)}]`,
      });
    } else paths.set(path, i);
    if (path === "/healthz" || path.startsWith("/healthz/")) {
      ctx.addIssue({
        code: "custom",
        path: ["routes", i, "path"],
        message: "/healthz is reserved",
      });
    }
  });
  // Run even when a route has other problems, so every error is reported at once.
}, { when: () => true });

/** The zod schema of the whole routes.yaml; its output is a {@linkcode Config}. */
export const ConfigSchema: z.ZodType<Config> = configSchema;

/**
 * The JSON Schema of routes.yaml, as users' editors want it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configJsonSchema } from "./schema.ts";
 *
 * const schema = configJsonSchema(); // what `keyward schema` prints, as JSON
 * assert.equal(schema.title, "keyward routes.yaml");
 * ```
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }),
    title: "keyward routes.yaml",
  };
}
