/**
 * What the library needs from the runtime it runs on, and nothing more: environment,
 * files, standard output and error, timers that do not hold the process open, and a hook
 * for the process's exit.
 *
 * @module
 */

/** The runtimes the library tells apart. */
export type RuntimeName = "deno" | "node" | "web";

/** The Deno KV operations the KV store uses (a `Deno.Kv`, typed without Deno's globals). */
export interface KvLike {
  /** Reads an entry. */
  get<T>(key: readonly unknown[]): Promise<KvEntryLike<T>>;
  /** Starts an atomic operation. */
  atomic(): KvAtomicLike;
  /** Sets a value. */
  set(key: readonly unknown[], value: unknown, options?: { expireIn?: number }): Promise<unknown>;
  /** The entries under `prefix`, in key order, at most `limit` of them. */
  list<T>(
    selector: { prefix: readonly (string | number | bigint | boolean)[] },
    options?: { limit?: number },
  ): AsyncIterable<KvEntryLike<T>>;
  /** Closes the database. */
  close(): void;
}

/** An entry read from KV. */
export interface KvEntryLike<T> {
  /** The entry's key. */
  key: readonly unknown[];
  /** Its value, null when absent. */
  value: T | null;
  /** Its version, null when absent. */
  versionstamp: string | null;
}

/** A KV atomic operation. */
export interface KvAtomicLike {
  /** Fails the commit unless the entry is unchanged. */
  check(entry: { key: readonly unknown[]; versionstamp: string | null }): KvAtomicLike;
  /** Sets a value. */
  set(key: readonly unknown[], value: unknown, options?: { expireIn?: number }): KvAtomicLike;
  /** Commits; `ok` is false when a check failed. */
  commit(): Promise<{ ok: boolean }>;
}

/** Where {@linkcode Platform.dial} connects. */
export interface DialOptions {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** TCP port. */
  port: number;
  /** TLS with ALPN `http/1.1`, trusting the runtime's roots and `caCerts`. */
  tls: boolean;
  /** PEM certificates to trust besides the runtime's roots. */
  caCerts?: string[];
}

/** A connected byte stream (a TCP or TLS connection). */
export interface Socket {
  /** Reads into `buffer`; resolves to the number of bytes read, or null at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves to how many were taken. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the connection. */
  close(): void;
}

/** The runtime, as the library sees it. */
export interface Platform {
  /** Which implementation this is. */
  readonly name: RuntimeName;
  /** Reads an environment variable; undefined when unset or not readable here. */
  env(name: string): string | undefined;
  /** Reads a text file. Throws when it cannot (or when this runtime has no files). */
  readTextFile(path: string): Promise<string>;
  /** Reads a text file synchronously. Throws when it cannot. */
  readTextFileSync(path: string): string;
  /** Writes text to standard output, all of it. */
  writeStdout(text: string): void;
  /** Writes text to standard error, all of it. */
  writeStderr(text: string): void;
  /**
   * Whether output may be held back and written in batches: true where a timer set after a
   * response still fires and an exit hook runs (Deno, Node, Bun), false on edge runtimes,
   * where an isolate may be frozen as soon as the response is sent.
   */
  readonly batchOutput: boolean;
  /** Lets a timer not keep the process alive. */
  unrefTimer(timer: ReturnType<typeof setTimeout>): void;
  /** Runs `fn` when the process exits normally (a no-op where there is no process). */
  onExit(fn: () => void): void;
  /**
   * Opens a TCP (or TLS) connection, for keyward's own HTTP/1.1 upstream client; only where
   * the runtime offers sockets to scripts (Deno).
   */
  dial?(options: DialOptions): Promise<Socket>;
  /** Opens Deno KV; only Deno has it. */
  openKv?(path?: string): Promise<KvLike>;
  /**
   * Accepts a WebSocket handshake inside a `fetch` handler: the server-side socket and the
   * `101` answer to return (Deno). Bun and Node upgrade at their servers instead (see
   * `src/realtime/`).
   */
  upgradeWebSocket?(request: Request): { socket: WebSocket; response: Response };
}
