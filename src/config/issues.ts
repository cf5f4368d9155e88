/**
 * What loading routes.yaml yields and how it fails, without any parser: a
 * {@linkcode ConfigIssue} prints as `FILE:LINE:COL message`, a {@linkcode ConfigError} carries
 * every issue found, and a {@linkcode LoadedConfig} points back into its source. The loaders
 * (load.ts, load_file.ts) share these, so the server can catch the error without loading a
 * YAML library.
 *
 * @module
 */
import type { Config } from "./types.ts";
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

/**
 * Formats an issue as `FILE:LINE:COL message`.
 *
 * @example
 * ```ts
 * formatIssue({ file: "routes.yaml", line: 3, col: 5, message: "Required" });
 * // "routes.yaml:3:5 Required"
 * ```
 */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col} ${issue.message}`;
}

/**
 * Thrown when a config cannot be used; `issues` holds every problem found.
 *
 * @example
 * ```ts
 * const error = new ConfigError([{ file: "routes.yaml", line: 1, col: 1, message: "Required" }]);
 * error.message; // "routes.yaml:1:1 Required"
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

/** The process environment, through the platform layer. */
export const defaultEnv: EnvLookup = (name) => platform.env(name);

/**
 * Reads a config file's text.
 *
 * @throws {ConfigError} at 1:1 when the file cannot be read
 */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await platform.readTextFile(path);
  } catch (error) {
    throw new ConfigError([
      { file: path, line: 1, col: 1, message: `Cannot read config: ${(error as Error).message}` },
    ]);
  }
}

/**
 * The 1-based line and column of offsets in a text, counted exactly as the `yaml` package's
 * `LineCounter` counts them (a line starts after each `\n`), so both loaders report the same
 * positions.
 */
export function lineCounter(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (starts[mid] < offset) low = mid + 1;
      else high = mid;
    }
    if (starts[low] === offset) return { line: low + 1, col: 1 };
    if (low === 0) return { line: 0, col: offset };
    return { line: low, col: offset - starts[low - 1] + 1 };
  };
}
