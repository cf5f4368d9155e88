/**
 * Loads routes.yaml: YAML with line and column positions, `${VAR}` / `${VAR:-default}`
 * interpolation, then the zod schema. Every problem becomes a {@linkcode ConfigIssue} that
 * prints as `FILE:LINE:COL message`.
 *
 * A valid config of ordinary YAML takes the quick way (quick_load.ts, no `yaml` package);
 * everything else, and every error, is read here with the `yaml` package, which knows each
 * node's position. The server loads through load_file.ts, which imports this module only
 * when the quick way gives up.
 *
 * @module
 */
import { type Document, isMap, isScalar, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { ConfigSchema } from "./schema.ts";
import { knownKeysAt, suggest } from "./suggest.ts";
import { incoherent } from "./coherence.ts";
import {
  ConfigError,
  type ConfigIssue,
  defaultEnv,
  type EnvLookup,
  formatIssue,
  type LoadedConfig,
} from "./issues.ts";
import { interpolate as interpolateText, plainValue } from "./interpolate.ts";
import { quickLoad } from "./quick_load.ts";

export { ConfigError, formatIssue } from "./issues.ts";
export type { ConfigIssue, EnvLookup, LoadedConfig } from "./issues.ts";

/**
 * Parses and validates routes.yaml text.
 *
 * @throws {ConfigError} with every problem found
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfigText } from "./load.ts";
 *
 * const { config } = loadConfigText(
 *   "routes:\n  - { name: a, path: /a, upstream: https://example.com, allow: ['GET /**'] }",
 *   "routes.yaml",
 * );
 * assert.equal(config.routes[0].upstream, "https://example.com");
 * ```
 */
export function loadConfigText(
  text: string,
  file = "<inline>",
  env: EnvLookup = defaultEnv,
): LoadedConfig {
  return quickLoad(text, file, env) ?? loadWithYaml(text, file, env);
}

/**
 * {@linkcode loadConfigText} with the `yaml` package alone: what the quick way falls back to.
 *
 * @throws {ConfigError} with every problem found
 */
export function loadWithYaml(
  text: string,
  file = "<inline>",
  env: EnvLookup = defaultEnv,
): LoadedConfig {
  const reading = readWithYaml(text, env);
  const { doc, at, locateOffset } = reading;
  const issues: ConfigIssue[] = [];
  const report = ({ offset, message }: { offset: number; message: string }) =>
    issues.push({ file, ...at(offset), message });
  if (reading.errors) {
    reading.problems.forEach(report);
    throw new ConfigError(issues);
  }
  reading.unset.forEach(report);
  if (issues.length > 0) throw new ConfigError(issues);

  const locate = (path: readonly PropertyKey[]) => at(locateOffset(path));

  const raw = doc.toJS() ?? {};
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      issues.push(...describeIssue(issue, doc, file, at, locateOffset));
    }
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ConfigError(dedupe(issues));
  }
  const ignored = incoherent(result.data);
  if (ignored.length > 0) {
    throw new ConfigError(ignored.map(({ path, message }) => ({
      file,
      ...locate(path),
      message: `${where(path)}: ${message}`,
    })));
  }
  return { config: result.data, file, locate };
}

/** The `yaml` package's reading of routes.yaml text, before the schema. */
export interface YamlReading {
  /** The document, `${VAR}`s interpolated. */
  doc: Document;
  /** Whether the YAML has errors (then `problems` lists them, warnings after). */
  errors: boolean;
  /** Parse errors and warnings, by offset. */
  problems: { offset: number; message: string }[];
  /** Unset variables without a default, by offset. */
  unset: { offset: number; message: string }[];
  /** Line and column of an offset. */
  at(offset: number): { line: number; col: number };
  /** The offset of the deepest node on a path that exists (0 when none does). */
  locateOffset(path: readonly PropertyKey[]): number;
}

/**
 * Parses YAML 1.2 (core schema, duplicate keys refused) with positions, and interpolates
 * `${VAR}`s in every scalar unless the YAML has errors.
 */
export function readWithYaml(text: string, env: EnvLookup): YamlReading {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings].map((error) => ({
    offset: error.pos[0],
    message: firstLine(error.message),
  }));
  const errors = doc.errors.length > 0;
  const unset: { offset: number; message: string }[] = [];
  if (!errors) interpolate(doc, env, (offset, message) => unset.push({ offset, message }));
  const locateOffset = (path: readonly PropertyKey[]): number => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node?.range) return node.range[0];
    }
    return 0;
  };
  return { doc, errors, problems, unset, at: lines.linePos, locateOffset };
}

function interpolate(
  doc: Document,
  env: EnvLookup,
  report: (offset: number, message: string) => void,
) {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return;
      const offset = node.range?.[0] ?? 0;
      const value = interpolateText(node.value, env, (message) => report(offset, message));
      // An unquoted `port: ${PORT:-8080}` is a number, as it would be written out.
      node.value = node.type === "PLAIN" ? plainValue(value) : value;
    },
  });
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
  locateOffset: (path: readonly PropertyKey[]) => number,
): ConfigIssue[] {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const map = doc.getIn(path as unknown[], true);
    const known = knownKeysAt(ConfigSchema, path);
    return issue.keys.map((key) => {
      let offset = locateOffset(path);
      if (isMap(map)) {
        const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
        const range = (pair?.key as { range?: number[] } | undefined)?.range;
        if (range) offset = range[0];
      }
      const hint = suggest(key, known);
      const message = `${where([...path, key])}: Unknown key "${key}"` +
        (hint ? ` (did you mean "${hint}"?)` : known.length ? ` (known: ${known.join(", ")})` : "");
      return { file, ...at(offset), message };
    });
  }
  let message = issue.message;
  if (issue.code === "invalid_type" && issue.input === undefined) {
    message = "Required";
  } else if (issue.code === "invalid_union") {
    message = unionMessage(issue);
  } else if (issue.code === "invalid_value" && "values" in issue) {
    message = `Expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return [{ file, ...at(locateOffset(path)), message: `${where(path)}: ${capitalise(message)}` }];
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  // Prefer the branch that got furthest: its first inner problem is what the user meant.
  const branches = issue.errors.filter((errors) => errors.length > 0);
  const best = branches.find((errors) => errors.every((e) => e.code !== "invalid_type")) ??
    branches[0];
  if (!best) return issue.message;
  return best.map((e) => (e.path.length ? `${e.path.join(".")}: ` : "") + e.message).join("; ");
}

function where(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : (out ? "." : "") + String(part);
  }
  return out || "(root)";
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).replace(/\.$/, "");
}

function firstLine(text: string): string {
  return capitalise(text.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""));
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = formatIssue(issue);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
