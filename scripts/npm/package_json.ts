/**
 * The npm package's package.json, derived from deno.json: the same name, version and
 * subpath exports (each with its types), and the npm packages the library imports, pinned
 * to the versions deno.json pins.
 *
 * @module
 */

/** The npm packages the library itself imports (the rest of deno.json's are for tests). */
export const RUNTIME_DEPENDENCIES: readonly string[] = [
  "hono",
  "zod",
  "js-yaml",
  "yaml",
  "jose",
  "ioredis",
  "gpt-tokenizer",
  "ws",
];

/** The part of deno.json the package is made from. */
export interface DenoJson {
  /** `@scope/name`. */
  name: string;
  /** Semver version. */
  version: string;
  /** License identifier. */
  license?: string;
  /** Subpath to source module, e.g. `"./express": "./src/adapters/express.ts"`. */
  exports: Record<string, string>;
  /** Import map entries, e.g. `"hono": "npm:hono@4.13.19"`. */
  imports: Record<string, string>;
}

/** Where a source module's JavaScript and types land in the package. */
export function builtPaths(source: string): { js: string; types: string } {
  const stem = source.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { js: `./esm/${stem}.js`, types: `./types/${stem}.d.ts` };
}

/** The exact version deno.json pins for an npm package. */
export function pinnedVersion(imports: Record<string, string>, name: string): string {
  const specifier = imports[name];
  const match = specifier && /^npm:(?:@[^/@]+\/)?[^@]+@(\d[^/]*)$/.exec(specifier);
  if (!match) throw new Error(`deno.json does not pin ${name} as npm:${name}@<version>`);
  return match[1];
}

/**
 * Builds the package.json object.
 *
 * @example
 * ```ts
 * const pkg = packageJson({
 *   name: "@keyward/keyward", version: "0.1.0", exports: { ".": "./mod.ts" },
 *   imports: { hono: "npm:hono@4.13.19" },
 * }, ["hono"]);
 * pkg.dependencies; // { hono: "4.13.19" }
 * ```
 */
export function packageJson(
  deno: DenoJson,
  dependencies: readonly string[] = RUNTIME_DEPENDENCIES,
): Record<string, unknown> {
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [subpath, source] of Object.entries(deno.exports)) {
    const { js, types } = builtPaths(source);
    exports[subpath] = { types, default: js };
  }
  return {
    name: deno.name,
    version: deno.version,
    description: "Keeps AI API keys on the server: a gateway for OpenAI, Anthropic, Gemini, " +
      "inference.sh and fal, as a library and framework adapters",
    license: deno.license,
    type: "module",
    // process.getBuiltinModule (how the library reaches fs without a static node: import).
    engines: { node: ">=20.16" },
    exports,
    main: exports["."]?.default,
    types: exports["."]?.types,
    files: ["esm", "types", "README.md"],
    dependencies: Object.fromEntries(
      dependencies.map((name) => [name, pinnedVersion(deno.imports, name)]),
    ),
  };
}
