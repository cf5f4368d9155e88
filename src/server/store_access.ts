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
 * const loaded = await loadConfigFile("routes.yaml");
 * checkStoreAccess(loaded); // throws when the KV file may not be written
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
