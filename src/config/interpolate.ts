/**
 * `${VAR}`, `${VAR:-default}` and `$${` in config strings: the one rule both loaders apply to
 * every scalar (keys included) that holds `${`.
 *
 * @module
 */
import type { EnvLookup } from "./issues.ts";

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$\{/g;

/**
 * Replaces the variables in `text`; an unset variable without a default is reported (and
 * becomes "").
 *
 * @example
 * ```ts
 * interpolate("${HOST:-127.0.0.1}:$${x}", () => undefined, () => {}); // "127.0.0.1:${x}"
 * ```
 */
export function interpolate(
  text: string,
  env: EnvLookup,
  report: (message: string) => void,
): string {
  return text.replace(VARIABLE, (match, name?: string, fallback?: string) => {
    if (match === "$${") return "${";
    const value = env(name!);
    if (value !== undefined && value !== "") return value;
    if (fallback !== undefined) return fallback;
    report(`Environment variable ${name} is not set (use \${${name}:-default})`);
    return "";
  });
}

/**
 * What an unquoted scalar's text means once interpolated: `port: ${PORT:-8080}` is a number,
 * as it would be written out.
 *
 * @example
 * ```ts
 * plainValue("8080"); // 8080
 * ```
 */
export function plainValue(text: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}
