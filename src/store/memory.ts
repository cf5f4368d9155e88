/**
 * The in-process store: exact, instant, and private to one process.
 *
 * @module
 */
import {
  bucketStarts,
  type LimitStore,
  MEMBERS_CAP,
  membersLimit,
  type Reservation,
  type RouteCounts,
  type WindowCount,
  windowOf,
} from "./store.ts";

/** Counters in a Map, swept of ended windows as it grows. */
export class MemoryStore implements LimitStore {
  readonly #windows = new Map<string, { count: number; end: number }>();
  readonly #slots = new Map<string, number>();
  #sweepAt = 1024;
  readonly #claims = new Map<string, number>();
  #claimSweepAt = 1024;
  readonly #routes = new Map<string, RouteCounts & { end: number }>();
  #routeSweepAt = 1024;
  readonly #sets = new Map<string, { members: Set<string>; end: number }>();
  #setSweepAt = 1024;

  add(key: string, amount: number, windowMs: number): Promise<WindowCount> {
    return Promise.resolve(this.#add(key, amount, windowMs));
  }

  read(key: string, windowMs: number): Promise<WindowCount> {
    return Promise.resolve(this.#add(key, 0, windowMs));
  }

  acquire(key: string, max: number): Promise<string | undefined> {
    const taken = this.#slots.get(key) ?? 0;
    if (taken >= max) return Promise.resolve(undefined);
    this.#slots.set(key, taken + 1);
    // One process: a slot is only ever given back by the request that took it.
    return Promise.resolve("slot");
  }

  release(key: string, _slot: string): Promise<void> {
    const taken = this.#slots.get(key) ?? 0;
    if (taken <= 1) this.#slots.delete(key);
    else this.#slots.set(key, taken - 1);
    return Promise.resolve();
  }

  addRouteCounts(
    route: string,
    counts: RouteCounts,
    bucketMs: number,
    keepMs: number,
    at = Date.now(),
  ): Promise<void> {
    const start = at - (at % bucketMs);
    const id = `${route}@${bucketMs}@${start}`;
    let entry = this.#routes.get(id);
    if (!entry) {
      if (this.#routes.size >= this.#routeSweepAt) {
        const now = Date.now();
        this.#routeSweepAt = sweep(this.#routes, (entry) => entry.end <= now);
      }
      entry = {
        requests: 0,
        errors: 0,
        tokens: 0,
        spend: 0,
        end: start + Math.max(keepMs, bucketMs),
      };
      this.#routes.set(id, entry);
    }
    entry.requests += counts.requests;
    entry.errors += counts.errors;
    entry.tokens += counts.tokens;
    entry.spend += counts.spend;
    return Promise.resolve();
  }

  readRouteCounts(
    route: string,
    bucketMs: number,
    buckets: number,
    now = Date.now(),
  ): Promise<RouteCounts[]> {
    return Promise.resolve(
      bucketStarts(bucketMs, buckets, now).map((start) => {
        const entry = this.#routes.get(`${route}@${bucketMs}@${start}`);
        return {
          requests: entry?.requests ?? 0,
          errors: entry?.errors ?? 0,
          tokens: entry?.tokens ?? 0,
          spend: entry?.spend ?? 0,
        };
      }),
    );
  }

  reserve(key: string, amount: number, limit: number, windowMs: number): Promise<Reservation> {
    const { start, resetMs } = windowOf(windowMs);
    const count = this.#windows.get(`${key}@${start}`)?.count ?? 0;
    if (count + amount > limit) {
      return Promise.resolve({ ok: false, count, resetMs, window: start });
    }
    const after = this.#add(key, amount, windowMs);
    return Promise.resolve({ ok: true, count: after.count, resetMs, window: start });
  }

  settle(key: string, delta: number, _windowMs: number, window: number): Promise<void> {
    const entry = this.#windows.get(`${key}@${window}`);
    if (entry && entry.end > Date.now()) entry.count = Math.max(0, entry.count + delta);
    return Promise.resolve();
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const until = this.#claims.get(key);
    if (until !== undefined && until > now) return Promise.resolve(false);
    if (this.#claims.size >= this.#claimSweepAt) {
      this.#claimSweepAt = sweep(this.#claims, (end) => end <= now);
    }
    this.#claims.set(key, now + ttlMs);
    return Promise.resolve(true);
  }

  note(set: string, member: string, windowMs: number): Promise<void> {
    const now = Date.now();
    const { start } = windowOf(windowMs, now);
    const id = `${set}@${start}`;
    let entry = this.#sets.get(id);
    if (!entry) {
      if (this.#sets.size >= this.#setSweepAt) {
        this.#setSweepAt = sweep(this.#sets, (old) => old.end <= now);
      }
      entry = { members: new Set(), end: start + windowMs };
      this.#sets.set(id, entry);
    }
    if (entry.members.size < MEMBERS_CAP) entry.members.add(member);
    return Promise.resolve();
  }

  members(set: string, windowMs: number, limit?: number): Promise<string[]> {
    const { start } = windowOf(windowMs);
    const members = this.#sets.get(`${set}@${start}`)?.members;
    if (!members) return Promise.resolve([]);
    return Promise.resolve([...members].slice(0, membersLimit(limit)));
  }

  close(): Promise<void> {
    this.#sets.clear();
    this.#claims.clear();
    this.#windows.clear();
    this.#slots.clear();
    this.#routes.clear();
    return Promise.resolve();
  }

  #add(key: string, amount: number, windowMs: number): WindowCount {
    const now = Date.now();
    const { start, resetMs } = windowOf(windowMs, now);
    const id = `${key}@${start}`;
    let entry = this.#windows.get(id);
    if (!entry) {
      if (amount === 0) return { count: 0, resetMs };
      if (this.#windows.size >= this.#sweepAt) {
        this.#sweepAt = sweep(this.#windows, (old) => old.end <= now);
      }
      entry = { count: 0, end: start + windowMs };
      this.#windows.set(id, entry);
    }
    entry.count += amount;
    return { count: entry.count, resetMs };
  }
}

/**
 * Deletes the entries of `map` that have `ended`; returns the size at which to sweep next
 * (twice what is left, 1,024 at least), so sweeping stays amortised O(1) per insert.
 */
function sweep<V>(map: Map<string, V>, ended: (value: V) => boolean): number {
  for (const [id, value] of map) if (ended(value)) map.delete(id);
  return Math.max(1024, map.size * 2);
}
