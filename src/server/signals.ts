/**
 * Signal listeners for the standalone server that never throw: Windows throws for every signal
 * but SIGINT and SIGBREAK, and a sandboxed host may throw for all of them. The server says
 * what it goes without (one log line) and carries on.
 *
 * @module
 */

/**
 * Adds a signal listener and its removal to `cleanups`; undefined when this platform cannot
 * listen for `signal` (Windows knows SIGINT and SIGBREAK only, some hosts none).
 *
 * @example
 * ```ts
 * import { listenSignal } from "./signals.ts";
 *
 * const cleanups: (() => void)[] = [];
 * if (!listenSignal("SIGHUP", () => console.log("reload"), cleanups)) {
 *   console.log("no SIGHUP here: reload by restarting");
 * }
 * for (const cleanup of cleanups) cleanup(); // at shutdown
 * ```
 */
export function listenSignal(
  signal: Deno.Signal,
  handler: () => void,
  cleanups: (() => void)[],
): true | undefined {
  try {
    Deno.addSignalListener(signal, handler);
  } catch {
    return undefined;
  }
  cleanups.push(() => {
    try {
      Deno.removeSignalListener(signal, handler);
    } catch {
      // gone with the platform's signal handling
    }
  });
  return true;
}
