/**
 * Where a route's keys come from (`env`, `file`, or a `pool` of them) and how one is picked
 * for a request. Keys are read once when the config is compiled, never per request.
 *
 * @module
 */
import type { KeyConfig } from "../config/schema.ts";
import { type KeyEntry, Secret } from "./secret.ts";
import { KeyHealth } from "./health.ts";
import { platform } from "../platform/mod.ts";

/**
 * Reads an environment variable or a file; injectable for tests, libraries and edge runtimes
 * (where keys live in the request's bindings). A reader left out falls back to the default.
 */
export interface KeyReaders {
  /** Reads an environment variable. */
  env?(name: string): string | undefined;
  /** Reads a file's text. */
  file?(path: string): string | undefined;
}

/**
 * The default readers: the process environment and the file system of the runtime (`Deno.env`
 * on Deno, `process.env` on Node and Bun; none on edge runtimes, which pass their own).
 */
export const defaultReaders: Required<KeyReaders> = {
  env: (name) => platform.env(name),
  file(path) {
    try {
      return platform.readTextFileSync(path);
    } catch {
      return undefined;
    }
  },
};

export type { KeyEntry } from "./secret.ts";

/** The keys of one route. */
export interface KeySource {
  /** The keys that were found, in pool order. */
  readonly keys: readonly KeyEntry[];
  /** Where keys were expected but not found (`env:NAME`, `file:PATH`), for `check` warnings. */
  readonly missing: readonly string[];
  /** Picks the key for the next request (a healthy one, round robin), or undefined. */
  pick(except?: KeyEntry): KeyEntry | undefined;
  /** How each key fared with the upstream. */
  readonly health: KeyHealth;
}

type Origin = { env: string } | { file: string };

function originsOf(config: KeyConfig): Origin[] {
  if (config.pool) return config.pool;
  if (config.env !== undefined) return [{ env: config.env }];
  if (config.file !== undefined) return [{ file: config.file }];
  return [];
}

/**
 * Reads the keys a `key:` section names and returns a picker that goes round robin over the
 * keys the upstream has not refused lately.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileKeySource } from "./source.ts";
 *
 * const env = (name: string) => name === "OPENAI_API_KEY" ? "sk-live-123" : undefined;
 * const source = compileKeySource({ env: "OPENAI_API_KEY" }, { env });
 * const key = source.pick()!;
 * assert.equal(key.origin, "env:OPENAI_API_KEY");
 * assert.equal(`${key.secret}`, "[redacted]");
 *
 * // a key that is not set: `check` warns, and the route answers 503
 * assert.deepEqual(compileKeySource({ env: "GEMINI_API_KEY" }, { env }).missing, [
 *   "env:GEMINI_API_KEY",
 * ]);
 * ```
 */
export function compileKeySource(config: KeyConfig, readers: KeyReaders = {}): KeySource {
  const env = (name: string) => (readers.env ?? defaultReaders.env).call(readers, name);
  const file = (path: string) => (readers.file ?? defaultReaders.file).call(readers, path);
  const keys: KeyEntry[] = [];
  const missing: string[] = [];
  for (const origin of originsOf(config)) {
    const name = "env" in origin ? `env:${origin.env}` : `file:${origin.file}`;
    const value = "env" in origin ? env(origin.env) : file(origin.file)?.trim();
    if (value) keys.push({ origin: name, secret: new Secret(value) });
    else missing.push(name);
  }
  const health = new KeyHealth(keys);
  return { keys, missing, health, pick: (except) => health.pick(except) };
}
