/**
 * The platform on runtimes with web-standard globals only (Cloudflare Workers, Vercel Edge):
 * no environment (keys come from key readers or the request's bindings), no files, output
 * through `console`, written at once because an isolate may be frozen after its response.
 *
 * @module
 */
import type { Platform } from "./types.ts";

function noFiles(path: string): never {
  throw new Error(`No file system on this runtime: cannot read ${path}`);
}

/**
 * The web-standard platform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { webPlatform } from "./web.ts";
 *
 * assert.equal(webPlatform.env("OPENAI_API_KEY"), undefined); // pass key readers instead
 * assert.throws(() => webPlatform.readTextFileSync("routes.yaml")); // no files either
 * ```
 */
export const webPlatform: Platform = {
  name: "web",
  env: () => undefined,
  readTextFile: (path) => Promise.reject(new Error(`No file system on this runtime: ${path}`)),
  readTextFileSync: noFiles,
  // console.log adds the newline each line already has.
  writeStdout: (text) => console.log(text.endsWith("\n") ? text.slice(0, -1) : text),
  writeStderr: (text) => console.error(text.endsWith("\n") ? text.slice(0, -1) : text),
  batchOutput: false,
  unrefTimer: () => {},
  onExit: () => {},
};
