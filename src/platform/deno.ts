/**
 * The platform on Deno (and Deno Deploy): `Deno.env`, `Deno.readTextFile`, `Deno.stdout`,
 * `Deno.unrefTimer`, the `unload` event, `Deno.openKv`, `Deno.upgradeWebSocket`.
 *
 * @module
 */
import type { DialOptions, KvLike, Platform, Socket } from "./types.ts";

/** The part of Deno's global the platform uses, typed here so no other runtime needs its types. */
interface DenoLike {
  env: { get(name: string): string | undefined };
  readTextFile(path: string): Promise<string>;
  readTextFileSync(path: string): string;
  stdout: { writeSync(bytes: Uint8Array): number };
  stderr: { writeSync(bytes: Uint8Array): number };
  unrefTimer(id: number): void;
  openKv?(path?: string): Promise<KvLike>;
  connect?(options: { hostname: string; port: number }): Promise<Socket & TcpLike>;
  connectTls?(
    options: { hostname: string; port: number; alpnProtocols: string[]; caCerts?: string[] },
  ): Promise<Socket>;
  upgradeWebSocket?(request: Request): { socket: WebSocket; response: Response };
}

interface TcpLike {
  setNoDelay(noDelay: boolean): void;
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
 * import assert from "node:assert/strict";
 * import { denoPlatform } from "./deno.ts";
 *
 * const platform = denoPlatform(Deno);
 * assert.equal(platform.name, "deno");
 * assert.equal(platform.env("KEYWARD_EXAMPLE_UNSET"), undefined);
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
    dial: deno.connect && deno.connectTls ? (options) => dial(deno, options) : undefined,
    openKv: deno.openKv
      ? (path) => deno.openKv!(path)
      : () => Promise.reject(new Error("Deno KV is not available (run with --unstable-kv)")),
    // Without `protocol`: Deno checks it against the offered list split on ", " exactly, and
    // refuses "a,b" (how npm ws writes it); the caller names the subprotocol on the 101.
    upgradeWebSocket: deno.upgradeWebSocket
      ? (request) => deno.upgradeWebSocket!(request)
      : undefined,
  };
}

async function dial(deno: DenoLike, options: DialOptions): Promise<Socket> {
  const { hostname, port, caCerts } = options;
  if (options.tls) {
    return await deno.connectTls!({ hostname, port, alpnProtocols: ["http/1.1"], caCerts });
  }
  const conn = await deno.connect!({ hostname, port });
  conn.setNoDelay(true);
  return conn;
}
