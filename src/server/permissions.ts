/**
 * The permission flags keyward binaries are built with, in one place for `deno task compile`,
 * the release workflow, `keyward check --permissions` and the tests that run the bundle under
 * the same flags.
 *
 * - {@linkcode RELEASE_PERMISSIONS}: the downloadable release binaries, which serve any
 *   routes.yaml at any path: any host, any variable, any file to read; no writing.
 * - {@linkcode derivePermissions}: a binary locked to one routes.yaml: network to the upstream
 *   and target hosts and the listen address only, the environment variables the file names
 *   only, and read access to the file (and key files) only.
 *
 * @module
 */
import { loadConfigText } from "../config/load.ts";
import { compileRoute } from "../route.ts";

/**
 * Runtime features every binary needs: `serve --reuse-port` (several processes on one port)
 * needs the unstable net API, and request.signal aborts only when a response failed, without
 * the runtime's notice.
 */
const UNSTABLE_FEATURES = ["net", "no-legacy-abort"];

/**
 * The release binaries' flags: every host (upstreams, auth and store hosts, the listen
 * address), every environment variable and every file to read, so any routes.yaml at any
 * path works, with its keys from any variable or file. The host name is the only system
 * information (as `deno task start` grants). No write access: a KV store in a local file needs
 * a binary built for that config, which may write exactly that file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RELEASE_PERMISSIONS } from "./permissions.ts";
 *
 * const args = ["compile", ...RELEASE_PERMISSIONS, "--output", "dist/keyward", "main.ts"];
 * assert.ok(args.includes("--allow-net"));
 * // a release binary writes no file
 * assert.ok(!args.some((flag) => flag.startsWith("--allow-write")));
 * ```
 */
export const RELEASE_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-sys=hostname",
  "--unstable-kv",
  ...UNSTABLE_FEATURES.map((feature) => `--unstable-${feature}`),
];

/** Variables the gateway itself reads besides those the config names. */
const RUNTIME_ENV = ["PORT"];
/** Variables npm:yaml probes; ignored rather than granted. */
const IGNORED_ENV = ["LOG_TOKENS", "LOG_STREAM"];
/** What the Redis client's logging library probes, when the Redis store is used. */
const REDIS_IGNORED_ENV = ["DEBUG"];

function hostOf(url: URL): string {
  return url.host; // includes the port when it is not the scheme's default
}

/** What a binary locked to one config is granted; each list in the order first named. */
export interface LockedGrants {
  /** Hosts (with a port when not the scheme's default) it may connect to or listen on. */
  net: string[];
  /** Environment variables it may read, sorted. */
  env: string[];
  /** Variables probed by libraries, answered as unset rather than granted. */
  ignoredEnv: string[];
  /** Files it may read. */
  read: string[];
  /** Files it may write (a local KV store). */
  write: string[];
  /** Unstable runtime features it is built with. */
  unstable: string[];
}

/**
 * Derives what a binary locked to serving `configPath`, whose text is `text`, is granted.
 *
 * Hosts in `${VAR}`s are taken from the build environment (or their defaults), and the listen
 * address is fixed at build time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockedGrants } from "./permissions.ts";
 *
 * const text = `
 * routes:
 *   - name: openai
 *     path: /openai
 *     preset: openai
 * `;
 * const grants = lockedGrants("routes.yaml", text, () => undefined); // usually the file's text
 * assert.deepEqual(grants.net, ["api.openai.com", "0.0.0.0"]); // the upstream, the listen address
 * assert.deepEqual(grants.env, ["OPENAI_API_KEY", "PORT"]);
 * assert.deepEqual(grants.read, ["routes.yaml"]);
 * ```
 */
export function lockedGrants(
  configPath: string,
  text: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): LockedGrants {
  const named = new Set<string>();
  const required = new Set<string>();
  for (const match of text.matchAll(/\$\{(\w+)(:-[^}]*)?\}/g)) {
    if (!match[2]) required.add(match[1]);
  }
  // Values come from the build environment or the defaults; a required variable that is not
  // set at build time gets a stand-in, so a key can stay out of the build machine. Only the
  // variables the loader asks for are granted: a `${VAR}` in a comment is not.
  const { config } = loadConfigText(text, configPath, (name) => {
    named.add(name);
    return env(name) ?? (required.has(name) ? "unset" : undefined);
  });
  const net = new Set<string>();
  const read = new Set<string>([configPath]);
  const readers = { env: () => undefined, file: () => undefined };
  for (const route of config.routes) {
    const compiled = compileRoute(route, readers);
    if (compiled.upstream) net.add(hostOf(compiled.upstream));
    for (const host of compiled.targetConfig?.hosts ?? []) net.add(host);
    const key = compiled.keyConfig;
    for (const origin of [key ?? {}, ...(key?.pool ?? [])]) {
      if ("env" in origin && origin.env) named.add(origin.env);
      if ("file" in origin && origin.file) read.add(origin.file);
    }
    const auth = route.auth ?? config.server?.auth;
    if (auth && typeof auth === "object") {
      if ("jwt" in auth && auth.jwt.jwks) net.add(hostOf(new URL(auth.jwt.jwks)));
      if ("forward" in auth) net.add(hostOf(new URL(auth.forward.url)));
    }
  }
  const write = new Set<string>();
  const store = config.store;
  if (store?.kind === "redis") net.add(hostOf(new URL(store.url)));
  if (store?.kind === "kv" && store.path) {
    if (/^https?:\/\//.test(store.path)) {
      net.add(hostOf(new URL(store.path)));
      named.add("DENO_KV_ACCESS_TOKEN"); // how a remote KV authenticates
    } else read.add(store.path), write.add(store.path);
  }
  const ignored = store?.kind === "redis" ? [...IGNORED_ENV, ...REDIS_IGNORED_ENV] : IGNORED_ENV;
  net.add(config.server?.hostname ?? "0.0.0.0");
  for (const name of RUNTIME_ENV) named.add(name);
  return {
    net: [...net],
    env: [...named].sort(),
    ignoredEnv: [...ignored],
    read: [...read],
    write: [...write],
    unstable: [...(store?.kind === "kv" ? ["kv"] : []), ...UNSTABLE_FEATURES],
  };
}

/**
 * Derives the flags of a binary locked to serving `configPath`, whose text is `text`: those of
 * {@linkcode lockedGrants}, as `deno compile` takes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { derivePermissions } from "./permissions.ts";
 *
 * const text = `
 * routes:
 *   - name: openai
 *     path: /openai
 *     preset: openai
 * `;
 * const flags = derivePermissions("routes.yaml", text, () => undefined);
 * assert.equal(flags[0], "--allow-net=api.openai.com,0.0.0.0");
 * assert.equal(flags[1], "--allow-env=OPENAI_API_KEY,PORT");
 * ```
 */
export function derivePermissions(
  configPath: string,
  text: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string[] {
  const grants = lockedGrants(configPath, text, env);
  return [
    `--allow-net=${grants.net.join(",")}`,
    `--allow-env=${grants.env.join(",")}`,
    `--ignore-env=${grants.ignoredEnv.join(",")}`,
    `--allow-read=${grants.read.join(",")}`,
    ...(grants.write.length ? [`--allow-write=${grants.write.join(",")}`] : []),
    ...grants.unstable.map((feature) => `--unstable-${feature}`),
  ];
}
