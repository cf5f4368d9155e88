/**
 * Checks at load that the process may use the store a config names, so a missing permission
 * is a config error with its line at startup (or a failed reload), not a 500 at the first
 * limited request. The release binaries may read any file but write none: a KV store in a
 * local file needs a binary built for that config (`deno task compile --config FILE`), which
 * may write exactly that file, or `deno run` with `--allow-write`.
 *
 * @module
 */
import { ConfigError, type LoadedConfig } from "../config/issues.ts";

/**
 * Throws a {@linkcode ConfigError} at `store.path` when the config keeps its counters in a
 * local Deno KV file this process may not read and write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, loadConfigText } from "../config/load.ts";
 * import { checkStoreAccess } from "./store_access.ts";
 *
 * const loaded = loadConfigText(`
 * store: { kind: kv, path: ./counters.kv }
 * routes:
 *   - { name: a, path: /a, upstream: https://example.com, allow: ["GET /**"] }
 * `);
 * try {
 *   checkStoreAccess(loaded); // this process may read and write ./counters.kv
 * } catch (error) {
 *   // it may not (a release binary writes no file): a config error at load, with its line
 *   assert.ok(error instanceof ConfigError);
 *   assert.equal(error.issues[0].line, 2);
 * }
 * ```
 */
export function checkStoreAccess(loaded: LoadedConfig): void {
  const store = loaded.config.store;
  if (store?.kind !== "kv" || !store.path || /^https?:\/\//.test(store.path)) return;
  const path = store.path;
  // request, not query: under `deno run` in a terminal this is where the prompt belongs; a
  // compiled binary or --no-prompt answers at once.
  const denied = (["read", "write"] as const).filter((name) =>
    Deno.permissions.requestSync({ name, path }).state !== "granted"
  );
  if (denied.length === 0) return;
  throw new ConfigError([{
    file: loaded.file,
    ...loaded.locate(["store", "path"]),
    message: `This process may not ${denied.join(" or ")} the KV file "${path}" ` +
      "(release binaries write no file): build a binary for this config with " +
      "`deno task compile --config FILE`, run with --allow-read and --allow-write for the " +
      "file, or use store: redis",
  }]);
}
