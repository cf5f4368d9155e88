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
  /** Opens Deno KV; only Deno has it. */
  openKv?(path?: string): Promise<KvLike>;
}
