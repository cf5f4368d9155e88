/**
 * Loads routes.yaml: YAML with line and column positions, `${VAR}` / `${VAR:-default}`
 * interpolation, then the zod schema. Every problem becomes a {@linkcode ConfigIssue} that
 * prints as `FILE:LINE:COL message`.
 *
 * @module
 */
import { type Document, isMap, isScalar, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { type Config, ConfigSchema } from "./schema.ts";
import { knownKeysAt, suggest } from "./suggest.ts";
import { incoherent } from "./coherence.ts";
import { platform } from "../platform/mod.ts";

/** One problem found in a config file, with its position (1-based). */
export interface ConfigIssue {
  /** The file the problem is in (or `<inline>`). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** What is wrong, capitalised, no trailing period. */
  message: string;
}

/** Formats an issue as `FILE:LINE:COL message`. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col} ${issue.message}`;
}

/**
 * Thrown when a config cannot be used; `issues` holds every problem found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, loadConfigText } from "./load.ts";
 *
 * assert.throws(() => loadConfigText("routes: []", "routes.yaml"), (error) => {
 *   assert.ok(error instanceof ConfigError);
 *   assert.equal(error.issues[0].line, 1); // error.message: "routes.yaml:1:9 routes: ..."
 *   return true;
 * });
 * ```
 */
export class ConfigError extends Error {
  /** Every problem found, in file order. */
  readonly issues: ConfigIssue[];

  /** Creates the error from its issues; the message lists each as `FILE:LINE:COL message`. */
  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** A validated config together with a way to point back into its source. */
export interface LoadedConfig {
  /** The validated config. */
  config: Config;
  /** The file name the config came from (or `<inline>`). */
  file: string;
  /** The position of the value at a path, for later checks that want to report a line. */
  locate(path: readonly PropertyKey[]): { line: number; col: number };
}

/** Reads environment variables; injectable so tests and libraries need no real env. */
export type EnvLookup = (name: string) => string | undefined;

const defaultEnv: EnvLookup = (name) => platform.env(name);

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$\{/g;

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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lines.linePos(offset);
  const issues: ConfigIssue[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const { line, col } = at(error.pos[0]);
    issues.push({ file, line, col, message: firstLine(error.message) });
  }
  if (doc.errors.length > 0) throw new ConfigError(issues);
  issues.length = 0;

  interpolate(doc, env, (offset, message) => issues.push({ file, ...at(offset), message }));
  if (issues.length > 0) throw new ConfigError(issues);

  const locateOffset = (path: readonly PropertyKey[]): number => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node?.range) return node.range[0];
    }
    return 0;
  };
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

/**
 * Reads and validates a routes.yaml file.
 *
 * @throws {ConfigError} when the file cannot be read or is invalid
 */
export async function loadConfigFile(path: string, env?: EnvLookup): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await platform.readTextFile(path);
  } catch (error) {
    throw new ConfigError([
      { file: path, line: 1, col: 1, message: `Cannot read config: ${(error as Error).message}` },
    ]);
  }
  return loadConfigText(text, path, env);
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
      const value = node.value.replace(VARIABLE, (match, name?: string, fallback?: string) => {
        if (match === "$${") return "${";
        const value = env(name!);
        if (value !== undefined && value !== "") return value;
        if (fallback !== undefined) return fallback;
        report(offset, `Environment variable ${name} is not set (use \${${name}:-default})`);
        return "";
      });
      // An unquoted `port: ${PORT:-8080}` is a number, as it would be written out.
      node.value = node.type === "PLAIN" ? plainValue(value) : value;
    },
  });
}

function plainValue(text: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
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
