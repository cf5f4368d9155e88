/**
 * Picks the limit store a config names. Kept apart from the interface (store.ts) that the
 * stores implement, so no store imports the module that imports it.
 *
 * @module
 */
import type { StoreConfig } from "../config/types.ts";
import { FailFastStore } from "./fail_fast.ts";
import { KvStore } from "./kv.ts";
import { MemoryStore } from "./memory.ts";
import { RedisStore } from "./redis.ts";
import type { LimitStore } from "./store.ts";

const REMOTE = /^https?:\/\//;

/**
 * Opens the store a config names (memory when it names none). Connections are made lazily:
 * opening never blocks, the first operation waits for them. A store that can be down (Redis,
 * a Redis Cluster, a remote KV) comes wrapped in a {@linkcode FailFastStore}: while it is known
 * to be down every operation fails at once, and it serves again within a second of its return.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./open_store.ts";
 *
 * const store = openStore(undefined); // memory
 * const { count } = await store.add("requests:alice", 1, 60_000);
 * assert.equal(count, 1);
 * await store.close();
 *
 * // Redis: nothing connects until the first operation
 * const shared = openStore({ kind: "redis", url: "redis://127.0.0.1:6379" });
 * await shared.close();
 * const cluster = openStore({ kind: "redis", cluster: ["redis://127.0.0.1:7000"] });
 * await cluster.close();
 * ```
 */
export function openStore(config: StoreConfig | undefined): LimitStore {
  switch (config?.kind) {
    case "redis":
      return new FailFastStore(
        new RedisStore(config.cluster ? { cluster: config.cluster } : config.url!),
      );
    case "kv":
      // A local file is never down; a remote KV (a URL) can be.
      return config.path && REMOTE.test(config.path)
        ? new FailFastStore(new KvStore(config.path))
        : new KvStore(config.path);
    default:
      return new MemoryStore();
  }
}
