/**
 * The platform the library runs on, picked once at load by what the global scope offers:
 * `Deno` first (Deno, Deno Deploy), then a Node-like `process` (Node.js, Bun), else
 * web-standard globals only (edge runtimes). Nothing else on the library's path touches a
 * runtime's own globals.
 *
 * @module
 */
import { denoPlatform } from "./deno.ts";
import { nodePlatform, type ProcessLike } from "./node.ts";
import type { Platform } from "./types.ts";
import { webPlatform } from "./web.ts";

export type { KvLike, Platform, RuntimeName } from "./types.ts";

/**
 * Picks the platform for a global scope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectPlatform, platform } from "./mod.ts";
 *
 * assert.equal(detectPlatform({}).name, "web"); // no Deno, no process: an edge runtime
 * assert.equal(platform.name, "deno"); // this process
 * ```
 */
export function detectPlatform(scope: Record<string, unknown>): Platform {
  const deno = scope.Deno as Parameters<typeof denoPlatform>[0] | undefined;
  if (deno && typeof deno === "object" && typeof deno.readTextFile === "function") {
    return denoPlatform(deno);
  }
  const process = scope.process as ProcessLike | undefined;
  if (process && typeof process === "object" && process.versions?.node && process.env) {
    return nodePlatform(process);
  }
  return webPlatform;
}

/** The platform of this process. */
export const platform: Platform = detectPlatform(globalThis as unknown as Record<string, unknown>);
