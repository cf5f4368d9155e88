/**
 * Requests, errors and tokens per route over the last hour and day, for the status page.
 * Counts are kept in the store, so every instance sharing it shows the same numbers; each
 * instance adds up what it served in memory and writes it at most once a second (a write
 * per request would cost more than the request), and at once before the page is read.
 *
 * @module
 */
import { UNITS_PER_USD } from "../config/units.ts";
import { platform } from "../platform/mod.ts";
import type { RequestRecord } from "./log.ts";
import type { LimitStore, RouteCounts } from "../store/store.ts";

/** One series the status page draws: `buckets` buckets of `bucketMs`. */
export interface SeriesShape {
  /** The series' name on the page and in JSON. */
  readonly name: "hour" | "day";
  /** The width of one bucket. */
  readonly bucketMs: number;
  /** How many buckets. */
  readonly buckets: number;
}

/** The last hour in 5-minute buckets and the last day in hours. */
export const SERIES: readonly SeriesShape[] = [
  { name: "hour", bucketMs: 5 * 60_000, buckets: 12 },
  { name: "day", bucketMs: 60 * 60_000, buckets: 24 },
];

/** What a route served in one bucket, as the status page shows it (spend in dollars). */
export interface SeriesPoint {
  /** Requests answered. */
  requests: number;
  /** Of those, answered with a status of 400 or more. */
  errors: number;
  /** Upstream-reported tokens. */
  tokens: number;
  /** Dollars charged. */
  spend_usd: number;
}

/** A route's series as the status page shows them. */
export interface RouteSeries {
  /** Bucket width in milliseconds. */
  bucket_ms: number;
  /** When the first bucket starts (ISO time). */
  from: string;
  /** One entry per bucket, oldest first. */
  points: SeriesPoint[];
  /** The sum over the series. */
  total: SeriesPoint;
}

function point({ requests, errors, tokens, spend }: RouteCounts): SeriesPoint {
  return { requests, errors, tokens, spend_usd: spend / UNITS_PER_USD };
}

const FLUSH_MS = 1000;

/** Counts finished requests per route and writes them to the store in batches. */
export class RouteStats {
  readonly #store: LimitStore;
  #pending = new Map<string, RouteCounts>();
  #since = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #flushing: Promise<void> = Promise.resolve();

  /** Counts into `store`. */
  constructor(store: LimitStore) {
    this.#store = store;
  }

  /** Counts one finished request (records without a route are not counted). */
  record(record: RequestRecord): void {
    const route = record.route;
    if (route === undefined) return;
    let counts = this.#pending.get(route);
    if (!counts) {
      counts = { requests: 0, errors: 0, tokens: 0, spend: 0 };
      this.#pending.set(route, counts);
    }
    counts.requests++;
    if (record.status >= 400) counts.errors++;
    counts.tokens += record.tokens?.total ?? 0;
    if (record.cost_usd !== undefined) counts.spend += Math.round(record.cost_usd * UNITS_PER_USD);
    if (!platform.batchOutput) return void this.flush();
    if (this.#timer !== undefined) return;
    this.#since = Date.now();
    this.#timer = setTimeout(() => void this.flush(), FLUSH_MS);
    platform.unrefTimer(this.#timer);
  }

  /** Writes what was counted since the last write; a failed write is dropped, not retried. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return this.#flushing;
    const pending = this.#pending;
    const at = this.#since || Date.now();
    this.#pending = new Map();
    this.#since = 0;
    const writes: Promise<void>[] = [];
    for (const [route, counts] of pending) {
      for (const { bucketMs, buckets } of SERIES) {
        writes.push(this.#store.addRouteCounts(route, counts, bucketMs, bucketMs * buckets, at));
      }
    }
    const done = Promise.all(writes).then(() => {}, () => {});
    this.#flushing = this.#flushing.then(() => done);
    return this.#flushing;
  }

  /** Reads `route`'s series from the store (after writing this instance's pending counts). */
  async read(route: string, now = Date.now()): Promise<Record<string, RouteSeries>> {
    await this.flush();
    const out: Record<string, RouteSeries> = {};
    for (const { name, bucketMs, buckets } of SERIES) {
      const points = await this.#store.readRouteCounts(route, bucketMs, buckets, now);
      const total = { requests: 0, errors: 0, tokens: 0, spend: 0 };
      for (const p of points) {
        total.requests += p.requests;
        total.errors += p.errors;
        total.tokens += p.tokens;
        total.spend += p.spend;
      }
      const first = now - (now % bucketMs) - (buckets - 1) * bucketMs;
      out[name] = {
        bucket_ms: bucketMs,
        from: new Date(first).toISOString(),
        points: points.map(point),
        total: point(total),
      };
    }
    return out;
  }
}
