/**
 * Key pools that heal: a key the upstream refused (401/403) is set aside and tried again
 * after a while; a key that hit a rate limit (429) cools down for the upstream's
 * `Retry-After`. Picks go round robin over the healthy keys.
 *
 * @module
 */
import type { KeyEntry } from "./secret.ts";

/** How long a refused key is set aside before one request tries it again. */
export const REVOKED_RETRY_MS = 5 * 60_000;
/** The cool-down after a 429 that gave no usable `Retry-After`. */
export const DEFAULT_COOLDOWN_MS = 30_000;

/** What the status endpoint shows of one key (never the key). */
export interface KeyStatus {
  /** Where the key came from, e.g. `env:OPENAI_KEY_A`. */
  origin: string;
  /** `healthy`, `revoked` (401/403) or `rate_limited` (429). */
  state: "healthy" | "revoked" | "rate_limited";
  /** When a set-aside key is tried again (ISO time). */
  retry_at?: string;
}

interface Health {
  state: KeyStatus["state"];
  until: number;
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `now`. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Health of the keys of one pool. */
export class KeyHealth {
  #keys: readonly KeyEntry[];
  #health: Health[];
  #next = 0;
  #now: () => number;

  /** Tracks `keys`; `now` is the clock (injectable for tests). */
  constructor(keys: readonly KeyEntry[], now: () => number = Date.now) {
    this.#keys = keys;
    this.#health = keys.map(() => ({ state: "healthy", until: 0 }));
    this.#now = now;
  }

  /**
   * The next healthy key other than `except`, round robin; when every key is set aside, the
   * one that is due back first (a request is better tried than refused).
   */
  pick(except?: KeyEntry): KeyEntry | undefined {
    const n = this.#keys.length;
    if (n === 0) return undefined;
    const now = this.#now();
    for (let i = 0; i < n; i++) {
      const index = (this.#next + i) % n;
      if (this.#keys[index] === except || this.#health[index].until > now) continue;
      this.#next = (index + 1) % n;
      return this.#keys[index];
    }
    if (except) return undefined;
    let soonest = 0;
    for (let i = 1; i < n; i++) {
      if (this.#health[i].until < this.#health[soonest].until) soonest = i;
    }
    return this.#keys[soonest];
  }

  /** Milliseconds until some key is usable: 0 while any is, else until the first is due back. */
  readyInMs(): number {
    const now = this.#now();
    let soonest = Infinity;
    for (const health of this.#health) {
      if (health.until <= now) return 0;
      soonest = Math.min(soonest, health.until - now);
    }
    return soonest === Infinity ? 0 : soonest;
  }

  /** Records what the upstream answered to a request made with `key`. */
  report(key: KeyEntry, status: number, retryAfter: string | null): void {
    const index = this.#keys.indexOf(key);
    if (index === -1) return;
    const now = this.#now();
    const health = this.#health[index];
    if (status === 401 || status === 403) {
      health.state = "revoked";
      health.until = now + REVOKED_RETRY_MS;
    } else if (status === 429) {
      health.state = "rate_limited";
      health.until = now + (retryAfterMs(retryAfter, now) ?? DEFAULT_COOLDOWN_MS);
    } else if (status < 500) {
      health.state = "healthy";
      health.until = 0;
    }
  }

  /** Whether a status means the key (not the request) was at fault. */
  static blamesKey(status: number): boolean {
    return status === 401 || status === 403 || status === 429;
  }

  /** The state of every key, for the status endpoint. */
  status(): KeyStatus[] {
    const now = this.#now();
    return this.#keys.map((key, i) => {
      const { state, until } = this.#health[i];
      return until > now
        ? { origin: key.origin, state, retry_at: new Date(until).toISOString() }
        : { origin: key.origin, state: state === "revoked" ? "revoked" : "healthy" };
    });
  }
}
