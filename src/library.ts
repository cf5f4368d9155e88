/**
 * `createGateway`: the gateway from YAML text, a config object, or a file path.
 *
 * @module
 */
import { ConfigError, type EnvLookup, type LoadedConfig } from "./config/issues.ts";
import { loadConfigFile, loadConfigSource } from "./config/load_file.ts";
import { type Config, ConfigSchema } from "./config/schema.ts";
import { buildGateway, type BuildOptions, type GatewayHooks } from "./gateway.ts";
import type { ConnInfo } from "./auth/client_ip.ts";
import { incoherent } from "./config/coherence.ts";
import { defaultUpstream } from "./proxy/upstream.ts";
import {
  bunEnv,
  type BunServerLike,
  type BunWebSocket,
  bunWebSocket,
  isBunServer,
} from "./realtime/bun.ts";
import { type NodeUpgradeListener, nodeUpgradeListener } from "./realtime/node.ts";

/** Bun's `Server`, as `Bun.serve` passes it to `fetch` (see {@linkcode Gateway.fetch}). */
export type BunServer = BunServerLike;

/** A config as YAML text, a path to a YAML file, or an object shaped like routes.yaml. */
export type GatewayInput = string | URL | Record<string, unknown>;

/**
 * The Hono app behind a gateway, as far as its public type goes: it is a real `Hono`
 * instance (`gateway.app instanceof Hono`), so `outer.route("/", gateway.app as Hono)` works.
 */
export interface HonoApp {
  /** Serves a request, as `Hono#fetch` does. */
  fetch(request: Request, env?: unknown, executionCtx?: unknown): Response | Promise<Response>;
}

/**
 * What a config cannot say, for {@linkcode createGateway} and every adapter's
 * `createHandler`: a custom `upstreamFetch`, a `log` sink, key `readers`, a shared `store`.
 */
export type GatewayOptions = Omit<BuildOptions, "hooks">;

/** A gateway to mount in an app. */
export interface Gateway {
  /**
   * Serves one request. `info` is what `Deno.serve` passes its handler (or the same shape):
   * with it, `auth: none` routes know the client's address. Under `Deno.serve` it accepts
   * WebSocket upgrades itself; under `Bun.serve` too, given Bun's server as `info` (what
   * `Bun.serve({ fetch: gateway.fetch, websocket: gateway.websocket })` does).
   */
  fetch(request: Request, info?: ConnInfo | BunServer): Promise<Response>;
  /**
   * The `websocket` handlers of `Bun.serve`, for the sockets the gateway upgrades; joined
   * with an app's own by `gateway.websocket.with(handlers)`.
   */
  websocket: BunWebSocket;
  /**
   * Node's `upgrade` listener: `server.on("upgrade", gateway.upgrade)` hands WebSocket
   * handshakes to the gateway (Node never shows them to a request handler). Handshakes to
   * paths no route serves are left to other listeners.
   */
  upgrade: NodeUpgradeListener;
  /** The Hono app behind `fetch`. */
  app: HonoApp;
  /** The validated config. */
  config: Config;
  /** Closes the limit store's connection or file (Redis, Deno KV), if one was opened. */
  close(): Promise<void>;
}

function looksLikeYaml(text: string): boolean {
  return text.includes("\n") || /^\s*[\w-]+\s*:/.test(text);
}

async function load(input: GatewayInput, env?: EnvLookup): Promise<LoadedConfig> {
  if (input instanceof URL) return await loadConfigFile(decodeURIComponent(input.pathname), env);
  if (typeof input === "string") {
    return looksLikeYaml(input)
      ? await loadConfigSource(input, undefined, env)
      : await loadConfigFile(input, env);
  }
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => ({
      file: "<object>",
      line: 1,
      col: 1,
      message: `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    })));
  }
  const ignored = incoherent(result.data);
  if (ignored.length > 0) {
    throw new ConfigError(ignored.map(({ path, message }) => ({
      file: "<object>",
      line: 1,
      col: 1,
      message: `${path.join(".")}: ${message}`,
    })));
  }
  return { config: result.data, file: "<object>", locate: () => ({ line: 1, col: 1 }) };
}

/**
 * Creates a gateway from a config and optional hooks.
 *
 * @throws {ConfigError} when the config is invalid
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createGateway } from "./library.ts";
 *
 * const gateway = await createGateway(`
 * routes:
 *   - name: openai
 *     path: /openai
 *     preset: openai
 * `);
 * // Deno.serve(gateway.fetch), or hand gateway.fetch to any server that speaks Request/Response
 * const answer = await gateway.fetch(new Request("http://localhost/openai/v1/files"));
 * assert.equal(answer.status, 403); // not in the openai preset's allow list: never sent
 * await gateway.close();
 * ```
 */
export async function createGateway(
  input: GatewayInput,
  hooks?: GatewayHooks,
  options: GatewayOptions = {},
): Promise<Gateway> {
  // Key readers that say where the environment is (an edge runtime's bindings) serve
  // `${VAR}` in the config too.
  const readers = options.readers;
  const { config } = await load(input, readers?.env && ((name) => readers.env!(name)));
  const upstream = options.upstreamFetch ? undefined : defaultUpstream();
  const upstreamFetch = options.upstreamFetch ?? upstream?.fetch;
  const built = await buildGateway(config, { ...options, hooks, upstreamFetch });
  const serve = (request: Request, env: unknown) => Promise.resolve(built.app.fetch(request, env));
  return {
    fetch: (request, info) => serve(request, isBunServer(info) ? bunEnv(info, request) : info),
    websocket: bunWebSocket,
    upgrade: nodeUpgradeListener(serve, (path) => built.handles(path)),
    app: built.app,
    config,
    close: async () => {
      upstream?.close();
      await built.close();
    },
  };
}
