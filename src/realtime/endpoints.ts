/**
 * Which of a route's endpoints are WebSockets: those of its preset's realtime endpoints (the
 * openai preset's `GET /v1/realtime`, the gemini preset's Live API) that its allow list lets
 * through. A route with none has no socket path at all.
 *
 * @module
 */
import type { RealtimeEndpoints, SocketProtocol } from "../config/presets/preset.ts";
import type { AllowMatcher } from "../rules/allow_list.ts";

/** A route's WebSocket endpoints, by upstream path. */
export interface SocketEndpoints {
  /** The protocol the endpoint at `path` speaks, or undefined when it is no socket. */
  readonly at: (path: string) => SocketProtocol | undefined;
}

/** A route's realtime endpoints once its allow list is applied. */
export interface CompiledRealtime {
  /** Its WebSocket endpoints, if any. */
  readonly sockets?: SocketEndpoints;
  /** The upstream path of its ephemeral-key endpoint, if it is allowed. */
  readonly secrets?: string;
}

/** `METHOD /path` split in two. */
function split(entry: string): [string, string] {
  const space = entry.indexOf(" ");
  return [entry.slice(0, space), entry.slice(space + 1)];
}

/**
 * Compiles a route's realtime endpoints: its preset's, as far as `allow` lets them through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileAllow } from "../rules/allow_list.ts";
 * import { compileRealtime } from "./endpoints.ts";
 *
 * const preset = {
 *   sockets: { "GET /v1/realtime": "openai" as const },
 *   secrets: "POST /v1/realtime/client_secrets",
 * };
 * const all = compileRealtime(preset, compileAllow(["GET /v1/realtime"]));
 * assert.equal(all.sockets?.at("/v1/realtime"), "openai");
 * assert.equal(all.sockets?.at("/v1/models"), undefined);
 * assert.equal(all.secrets, undefined); // not in the allow list
 *
 * const none = compileRealtime(preset, compileAllow(["POST /v1/chat/completions"]));
 * assert.equal(none.sockets, undefined);
 * ```
 */
export function compileRealtime(
  preset: RealtimeEndpoints | undefined,
  allow: AllowMatcher,
): CompiledRealtime {
  if (!preset) return {};
  const byPath = new Map<string, SocketProtocol>();
  for (const [entry, protocol] of Object.entries(preset.sockets)) {
    const [method, path] = split(entry);
    if (!allow(method, path)) continue;
    byPath.set(path, protocol);
  }
  let secrets: string | undefined;
  if (preset.secrets) {
    const [method, path] = split(preset.secrets);
    if (allow(method, path)) secrets = path;
  }
  return {
    sockets: byPath.size > 0 ? { at: (path) => byPath.get(path) } : undefined,
    secrets,
  };
}
