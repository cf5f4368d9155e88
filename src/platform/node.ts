/**
 * The platform on Node.js and Bun, through the `process` global: `process.env`, `fs` from
 * `process.getBuiltinModule` (no static `node:` import, so edge runtimes can load this
 * module too), `process.stdout`, `timer.unref()`, `process.on("exit")`.
 *
 * @module
 */
import type { Platform } from "./types.ts";

/** The part of Node's `process` the platform uses, typed here so Deno needs no Node types. */
export interface ProcessLike {
  env: Record<string, string | undefined>;
  versions: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  on(event: "exit", fn: () => void): unknown;
  getBuiltinModule?(name: string): unknown;
}

interface FsLike {
  readFileSync(path: string, encoding: "utf8"): string;
  promises: { readFile(path: string, encoding: "utf8"): Promise<string> };
}

/**
 * Makes the Node/Bun platform over a `process` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { nodePlatform } from "./node.ts";
 *
 * const platform = nodePlatform(process); // Deno has a `process` too
 * assert.equal(platform.name, "node");
 * assert.equal(platform.env("PATH"), process.env.PATH);
 * ```
 */
export function nodePlatform(process: ProcessLike): Platform {
  let fs: FsLike | undefined;
  const files = (): FsLike => {
    fs ??= process.getBuiltinModule?.("node:fs") as FsLike | undefined;
    if (!fs) throw new Error("This runtime has no process.getBuiltinModule (Node 20.16 or later)");
    return fs;
  };
  return {
    name: "node",
    env: (name) => process.env[name],
    readTextFile: (path) => files().promises.readFile(path, "utf8"),
    readTextFileSync: (path) => files().readFileSync(path, "utf8"),
    writeStdout: (text) => void process.stdout.write(text),
    writeStderr: (text) => void process.stderr.write(text),
    batchOutput: true,
    unrefTimer: (timer) => (timer as { unref?(): void }).unref?.(),
    onExit: (fn) => void process.on("exit", fn),
  };
}
