/**
 * Command-line flags read one at a time, `--flag value` or `--flag=value`, for `main.ts` and
 * its `token` command alike.
 *
 * @module
 */

/** One flag and a way to take its value. */
export interface Flag {
  /** The flag as written, without an inline `=value`. */
  name: string;
  /** The value written inline (`--flag=value`), if any. */
  inline?: string;
  /** Its value (inline or the next argument); throws when there is none. */
  value(): string;
}

/**
 * Yields the flags of `argv` in order; a flag's value is consumed only when asked for, so a
 * flag without one (`--once`) leaves the next argument alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flags } from "./cli_flags.ts";
 *
 * const seen: string[] = [];
 * for (const flag of flags(["--port=8080", "--config", "routes.yaml", "--once"])) {
 *   seen.push(flag.name === "--once" ? flag.name : `${flag.name} ${flag.value()}`);
 * }
 * assert.deepEqual(seen, ["--port 8080", "--config routes.yaml", "--once"]);
 * ```
 */
export function* flags(argv: readonly string[]): Generator<Flag> {
  const rest = [...argv];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const [name, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    yield {
      name,
      inline,
      value: () => {
        const v = inline ?? rest.shift();
        if (v === undefined || v === "") throw new Error(`${name} needs a value`);
        return v;
      },
    };
  }
}
