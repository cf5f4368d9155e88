/**
 * The quick way through routes.yaml for a valid config: quick_yaml.ts's reading, then the
 * zod schema and the coherence checks. It answers `undefined` whenever anything is off (YAML
 * it does not read, an unset variable, an invalid config); load.ts then reads the text again
 * with the `yaml` package and words every issue at its line, exactly as before.
 *
 * @module
 */
import { ConfigSchema } from "./schema.ts";
import { incoherent } from "./coherence.ts";
import { type EnvLookup, lineCounter, type LoadedConfig } from "./issues.ts";
import { quickYaml } from "./quick_yaml.ts";

/**
 * The loaded config when `text` reads the quick way and is valid; `undefined` otherwise.
 *
 * @example
 * ```ts
 * const loaded = quickLoad(
 *   "routes:\n  - { name: a, path: /a, upstream: https://example.com, allow: ['GET /**'] }",
 *   "routes.yaml",
 *   () => undefined,
 * );
 * loaded?.config.routes[0].name; // "a"
 * ```
 */
export function quickLoad(text: string, file: string, env: EnvLookup): LoadedConfig | undefined {
  const doc = quickYaml(text, env);
  if (!doc) return undefined;
  // Without zod's eval'd fast path: compiling it costs more than the one parse it would speed.
  const result = ConfigSchema.safeParse(doc.value ?? {}, { jitless: true });
  if (!result.success || incoherent(result.data).length > 0) return undefined;
  const at = lineCounter(text);
  return { config: result.data, file, locate: (path) => at(doc.locateOffset(path)) };
}
