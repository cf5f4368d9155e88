/**
 * The counter store behind limits: fixed-window counters (requests, tokens) and in-flight
 * slots (concurrency), kept in process memory, Deno KV or Redis. Every operation is atomic in
 * its store, so a limit of N holds at N across every gateway sharing the store.
 *
 * @module
 */
import type { StoreConfig } from "../config/types.ts";
import { KvStore } from "./kv.ts";
import { MemoryStore } from "./memory.ts";
import { RedisStore } from "./redis.ts";

/** A window's count after an operation. */
export interface WindowCount {
  /** The window's total. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  resetMs: number;
}

/** Where limit counters live. */
export interface LimitStore {
  /** Adds `amount` to `key`'s counter in the current window of `windowMs`; returns the total. */
  add(key: string, amount: number, windowMs: number): Promise<WindowCount>;
  /** Reads `key`'s counter in the current window without changing it. */
  read(key: string, windowMs: number): Promise<WindowCount>;
  /**
   * Takes one of `max` in-flight slots of `key`: resolves to the slot's id, or undefined when
   * all are taken. A slot not given back within `ttlMs` (its instance crashed) is freed.
   */
  acquire(key: string, max: number, ttlMs: number): Promise<string | undefined>;
  /** Gives back a slot taken by {@linkcode LimitStore.acquire}. */
  release(key: string, slot: string): Promise<void>;
  /** Closes connections and files. */
  close(): Promise<void>;
}

let slotSequence = 0;
const instance = crypto.randomUUID().slice(0, 8);

/** A slot id unique across instances sharing a store. */
export function newSlotId(): string {
  slotSequence = (slotSequence + 1) % 0x100000000;
  return `${instance}.${slotSequence.toString(36)}`;
}

/** The fixed window holding `now`: its start (part of every counter key) and its end. */
export function windowOf(windowMs: number, now = Date.now()): { start: number; resetMs: number } {
  const start = now - (now % windowMs);
  return { start, resetMs: start + windowMs - now };
}

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
