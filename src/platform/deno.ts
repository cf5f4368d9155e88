/**
 * The platform on Deno (and Deno Deploy): `Deno.env`, `Deno.readTextFile`, `Deno.stdout`,
 * `Deno.unrefTimer`, the `unload` event, `Deno.openKv`.
 *
 * @module
 */
import type { KvLike, Platform } from "./types.ts";

/** The part of Deno's global the platform uses, typed here so no other runtime needs its types. */
interface DenoLike {
  env: { get(name: string): string | undefined };
  readTextFile(path: string): Promise<string>;
  readTextFileSync(path: string): string;
  stdout: { writeSync(bytes: Uint8Array): number };
  stderr: { writeSync(bytes: Uint8Array): number };
  unrefTimer(id: number): void;
  openKv?(path?: string): Promise<KvLike>;
}

const encoder = new TextEncoder();

function writeAll(file: { writeSync(bytes: Uint8Array): number }, text: string) {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/**
 * Makes the Deno platform over a `Deno` global.
 *
 * @example
 * ```ts
 * const platform = denoPlatform((globalThis as { Deno?: never }).Deno!);
 * platform.env("HOME");
 * ```
 */
export function denoPlatform(deno: DenoLike): Platform {
  return {
    name: "deno",
    env(name) {
      try {
        return deno.env.get(name);
      } catch {
        return undefined; // no --allow-env for this name
      }
    },
    readTextFile: (path) => deno.readTextFile(path),
    readTextFileSync: (path) => deno.readTextFileSync(path),
    writeStdout: (text) => writeAll(deno.stdout, text),
    writeStderr: (text) => writeAll(deno.stderr, text),
    batchOutput: true,
    unrefTimer: (timer) => deno.unrefTimer(timer as unknown as number),
    onExit: (fn) => globalThis.addEventListener("unload", fn),
    openKv: deno.openKv
      ? (path) => deno.openKv!(path)
      : () => Promise.reject(new Error("Deno KV is not available (run with --unstable-kv)")),
  };
}
