/**
 * Picks the limit store a config names. Kept apart from the interface (store.ts) that the
 * stores implement, so no store imports the module that imports it.
 *
 * @module
 */
import type { StoreConfig } from "../config/types.ts";
import { KvStore } from "./kv.ts";
import { MemoryStore } from "./memory.ts";
import { RedisStore } from "./redis.ts";
import type { LimitStore } from "./store.ts";

/**
 * Opens the store a config names (memory when it names none). Connections are made lazily:
 * opening never blocks, the first operation waits for them.
 *
 * @example
 * ```ts
 * const store = openStore({ kind: "redis", url: "redis://127.0.0.1:6379" });
 * await store.add("requests:alice", 1, 60_000); // { count: 1, resetMs: ... }
 * ```
 */
export function openStore(config: StoreConfig | undefined): LimitStore {
  switch (config?.kind) {
    case "redis":
      return new RedisStore(config.url);
    case "kv":
      return new KvStore(config.path);
    default:
      return new MemoryStore();
  }
}
