/**
 * The Deno KV store: a local file shared by processes on one machine, or a remote KV (Deno
 * Deploy's own, or a URL). Counters are read and written under a versionstamp check, so two
 * instances never both take the last unit; each write carries `expireIn`, and the window is
 * part of the key because KV expires lazily (an ended window may still be read) and `sum`
 * would drop the expiry. A window's members are one key each under the window's prefix, so
 * noting one is a single write and listing them one range read.
 *
 * @module
 */
import {
  bucketOf,
  bucketStarts,
  type LimitStore,
  membersLimit,
  newSlotId,
  type Reachable,
  type Reservation,
  type RouteCounts,
  type WindowCount,
  windowOf,
} from "./store.ts";
import { type KvLike, platform } from "../platform/mod.ts";

const ATTEMPTS = 200;

const LOCKED = /database is locked|busy/i;

/** In-flight slots of one key: slot id to when it was taken. */
type Slots = Record<string, number>;

class StoreContention extends Error {
  constructor() {
    super("Deno KV: too many concurrent writers on one counter");
    this.name = "StoreContention";
  }
}

/** Waits a random while that grows with `attempt`, so writers do not collide in lockstep. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
}

/** Counters in Deno KV. */
export class KvStore implements LimitStore, Reachable {
  readonly #path?: string;
  #kv?: Promise<KvLike>;

  constructor(path?: string) {
    this.#path = path;
  }

  #open(): Promise<KvLike> {
    return this.#kv ??= this.#connect().catch((error) => {
      this.#kv = undefined; // the next operation tries again
      throw error;
    });
  }

  async #connect(): Promise<KvLike> {
    for (let attempt = 0;; attempt++) {
      try {
        if (!platform.openKv) throw new Error("Deno KV needs Deno");
        return await platform.openKv(this.#path);
      } catch (error) {
        // Two processes opening a new file at once race to set it up; the loser waits.
        if (!LOCKED.test((error as Error).message) || attempt >= 50) throw error;
        await backoff(attempt);
      }
    }
  }

  async add(key: string, amount: number, windowMs: number): Promise<WindowCount> {
    const { start, resetMs } = windowOf(windowMs);
    const id = ["keyward", "window", key, start];
    const kv = await this.#open();
    if (amount === 0) {
      const entry = await kv.get<number>(id);
      return { count: entry.value ?? 0, resetMs };
    }
    const count = await this.#update<number>(kv, id, windowMs + 1_000, (n) => (n ?? 0) + amount);
    return { count: count!, resetMs };
  }

  read(key: string, windowMs: number): Promise<WindowCount> {
    return this.add(key, 0, windowMs);
  }

  async acquire(key: string, max: number, ttlMs: number): Promise<string | undefined> {
    const kv = await this.#open();
    const slot = newSlotId();
    const taken = await this.#update<Slots>(kv, ["keyward", "slots", key], ttlMs, (slots) => {
      // Slots older than the TTL belong to instances that died holding them.
      const now = Date.now();
      const live: Slots = {};
      for (const [id, at] of Object.entries(slots ?? {})) if (now - at < ttlMs) live[id] = at;
      if (Object.keys(live).length >= max) return undefined;
      live[slot] = now;
      return live;
    });
    return taken ? slot : undefined;
  }

  async release(key: string, slot: string): Promise<void> {
    const kv = await this.#open();
    await this.#update<Slots>(kv, ["keyward", "slots", key], 60 * 60_000, (slots) => {
      const { [slot]: _gone, ...rest } = slots ?? {};
      return rest;
    });
  }

  async addRouteCounts(
    route: string,
    counts: RouteCounts,
    bucketMs: number,
    keepMs: number,
    at = Date.now(),
  ): Promise<void> {
    const { start, keepFor: keep } = bucketOf(at, bucketMs, keepMs);
    if (keep <= 0) return;
    const kv = await this.#open();
    await this.#update<RouteCounts>(
      kv,
      ["keyward", "route", route, bucketMs, start],
      keep,
      (n) => ({
        requests: (n?.requests ?? 0) + counts.requests,
        errors: (n?.errors ?? 0) + counts.errors,
        tokens: (n?.tokens ?? 0) + counts.tokens,
        spend: (n?.spend ?? 0) + counts.spend,
      }),
    );
  }

  async readRouteCounts(
    route: string,
    bucketMs: number,
    buckets: number,
    now = Date.now(),
  ): Promise<RouteCounts[]> {
    const kv = await this.#open();
    const starts = bucketStarts(bucketMs, buckets, now);
    const entries = await Promise.all(
      starts.map((start) => kv.get<RouteCounts>(["keyward", "route", route, bucketMs, start])),
    );
    return entries.map(({ value }) => ({
      requests: value?.requests ?? 0,
      errors: value?.errors ?? 0,
      tokens: value?.tokens ?? 0,
      spend: value?.spend ?? 0,
    }));
  }

  async reserve(
    key: string,
    amount: number,
    limit: number,
    windowMs: number,
  ): Promise<Reservation> {
    const { start, resetMs } = windowOf(windowMs);
    const kv = await this.#open();
    let count = 0;
    const after = await this.#update<number>(
      kv,
      ["keyward", "window", key, start],
      windowMs + 1_000,
      (n) => {
        count = n ?? 0;
        return count + amount > limit ? undefined : count + amount;
      },
    );
    return { ok: after !== undefined, count: after ?? count, resetMs, window: start };
  }

  async settle(key: string, delta: number, windowMs: number, window: number): Promise<void> {
    if (delta === 0 || window + windowMs <= Date.now()) return;
    const kv = await this.#open();
    const expireIn = window + windowMs + 1_000 - Date.now();
    await this.#update<number>(
      kv,
      ["keyward", "window", key, window],
      expireIn,
      (n) => (n === null ? undefined : Math.max(0, n + delta)),
    );
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const kv = await this.#open();
    const id = ["keyward", "claim", key];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        const entry = await kv.get<number>(id);
        // KV expires lazily: an entry past its time is free again.
        if (entry.value !== null && entry.value > Date.now()) return false;
        const until = Date.now() + ttlMs;
        const result = await kv.atomic().check(entry).set(id, until, { expireIn: ttlMs })
          .commit();
        if (result.ok) return true;
      } catch (error) {
        if (!LOCKED.test((error as Error).message)) throw error;
      }
      await backoff(attempt);
    }
    throw new StoreContention();
  }

  async note(set: string, member: string, windowMs: number): Promise<void> {
    const { start, resetMs } = windowOf(windowMs);
    const id = ["keyward", "members", set, start, member];
    const kv = await this.#open();
    // A member is noted on each of its requests: read first, so only its first one writes.
    if ((await kv.get<number>(id)).value !== null) return;
    await kv.set(id, 1, { expireIn: resetMs + 1_000 });
  }

  async members(set: string, windowMs: number, limit?: number): Promise<string[]> {
    const most = membersLimit(limit);
    if (most === 0) return [];
    const { start } = windowOf(windowMs);
    const kv = await this.#open();
    const members: string[] = [];
    const entries = kv.list<number>({ prefix: ["keyward", "members", set, start] }, {
      limit: most,
    });
    for await (const entry of entries) members.push(String(entry.key[entry.key.length - 1]));
    return members;
  }

  /** Answers when the database does (for a remote KV behind the fail-fast wrapper). */
  async ping(): Promise<void> {
    await (await this.#open()).get(["keyward", "ping"]);
  }

  unreachable(error: unknown): boolean {
    return !(error instanceof StoreContention);
  }

  async close(): Promise<void> {
    if (this.#kv) (await this.#kv).close();
    this.#kv = undefined;
  }

  /**
   * Applies `change` to a value under a versionstamp check, retrying when another writer
   * got there first. `change` returning undefined leaves the value alone.
   */
  async #update<T>(
    kv: KvLike,
    id: readonly unknown[],
    expireIn: number,
    change: (value: T | null) => T | undefined,
  ): Promise<T | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        const entry = await kv.get<T>(id);
        const next = change(entry.value);
        if (next === undefined) return undefined;
        const result = await kv.atomic().check(entry).set(id, next, { expireIn }).commit();
        if (result.ok) return next;
      } catch (error) {
        // A local KV file is SQLite: another process holding the write lock is contention
        // too, not a failure.
        if (!LOCKED.test((error as Error).message)) throw error;
      }
      await backoff(attempt);
    }
    throw new StoreContention();
  }
}
