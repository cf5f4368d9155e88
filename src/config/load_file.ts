/**
 * Loads routes.yaml without loading a YAML library up front: the quick way (quick_load.ts)
 * for a valid config, and load.ts (the `yaml` package, imported on demand) for anything else,
 * which also words the errors. What the server and `check` use; the result and the errors are
 * those of load.ts's `loadConfigText`.
 *
 * @module
 */
import { defaultEnv, type EnvLookup, type LoadedConfig, readConfigText } from "./issues.ts";
import { quickLoad } from "./quick_load.ts";

/**
 * Reads and validates a routes.yaml file.
 *
 * @throws {ConfigError} when the file cannot be read or is invalid
 * @example
 * ```ts
 * const { config } = await loadConfigFile("routes.yaml");
 * ```
 */
export async function loadConfigFile(
  path: string,
  env: EnvLookup = defaultEnv,
): Promise<LoadedConfig> {
  return await loadConfigSource(await readConfigText(path), path, env);
}

/**
 * Parses and validates routes.yaml text, as `loadConfigText` does.
 *
 * @throws {ConfigError} with every problem found
 */
export async function loadConfigSource(
  text: string,
  file = "<inline>",
  env: EnvLookup = defaultEnv,
): Promise<LoadedConfig> {
  const quick = quickLoad(text, file, env);
  if (quick) return quick;
  const { loadWithYaml } = await import("./load.ts");
  return loadWithYaml(text, file, env);
}
