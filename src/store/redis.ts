/**
 * The Redis store: one round trip per operation, each a Lua script so the check and the
 * change are atomic across every gateway instance. Window counters carry the window in their
 * key and expire with it.
 *
 * @module
 */
import type { Redis } from "ioredis";
import {
  bucketOf,
  bucketStarts,
  type LimitStore,
  newSlotId,
  type Reservation,
  type RouteCounts,
  type WindowCount,
  windowOf,
} from "./store.ts";
import { RESERVE, SETTLE } from "./redis_scripts.ts";

const ADD = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`;
// Slots are members of a sorted set scored by when they were taken, so a slot whose
// instance died is dropped once it is older than the TTL, without touching live ones.
const ACQUIRE = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// A route's bucket is a hash of its three counters, expiring with the bucket.
const ADD_ROUTE = `
redis.call('HINCRBY', KEYS[1], 'requests', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'errors', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/** Counters in Redis, shared by every instance that points at it. */
export class RedisStore implements LimitStore {
  readonly #url: string;
  #client?: Promise<Redis>;

  constructor(url: string) {
    this.#url = url;
  }

  /** The client, loaded on first use: gateways without Redis never load its module. */
  #redis(): Promise<Redis> {
    return this.#client ??= import("ioredis").then(({ Redis }) => {
      const redis = new Redis(this.#url, {
        // Fail fast rather than hold requests while Redis is away; the limiter answers 503.
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        commandTimeout: 2_000,
        keyPrefix: "keyward:",
      });
      // Connection errors surface on the commands that need the connection.
      redis.on("error", () => {});
      return redis;
    });
  }

  async add(key: string, amount: number, windowMs: number): Promise<WindowCount> {
    const { start, resetMs } = windowOf(windowMs);
    const id = `${key}@${start}`;
    const redis = await this.#redis();
    const count = amount === 0
      ? Number(await redis.get(id) ?? 0)
      : Number(await redis.eval(ADD, 1, id, amount, windowMs + 1_000));
    return { count, resetMs };
  }

  read(key: string, windowMs: number): Promise<WindowCount> {
    return this.add(key, 0, windowMs);
  }

  async acquire(key: string, max: number, ttlMs: number): Promise<string | undefined> {
    const slot = newSlotId();
    const redis = await this.#redis();
    const taken = await redis.eval(ACQUIRE, 1, `slots:${key}`, max, ttlMs, slot);
    return Number(taken) === 1 ? slot : undefined;
  }

  async release(key: string, slot: string): Promise<void> {
    await (await this.#redis()).zrem(`slots:${key}`, slot);
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
    const redis = await this.#redis();
    const { requests, errors, tokens } = counts;
    await redis.eval(
      ADD_ROUTE,
      1,
      routeKey(route, bucketMs, start),
      requests,
      errors,
      tokens,
      keep,
    );
  }

  async readRouteCounts(
    route: string,
    bucketMs: number,
    buckets: number,
    now = Date.now(),
  ): Promise<RouteCounts[]> {
    const redis = await this.#redis();
    const pipeline = redis.pipeline();
    const starts = bucketStarts(bucketMs, buckets, now);
    for (const start of starts) {
      pipeline.hmget(routeKey(route, bucketMs, start), "requests", "errors", "tokens");
    }
    const results = (await pipeline.exec()) ?? [];
    return starts.map((_, i) => {
      const [error, values] = results[i] ?? [null, []];
      if (error) throw error;
      const [requests, errors, tokens] = (values as (string | null)[]).map((v) => Number(v ?? 0));
      return { requests, errors, tokens };
    });
  }

  async reserve(
    key: string,
    amount: number,
    limit: number,
    windowMs: number,
  ): Promise<Reservation> {
    const { start, resetMs } = windowOf(windowMs);
    const redis = await this.#redis();
    const [ok, count] = await redis.eval(
      RESERVE,
      1,
      `${key}@${start}`,
      amount,
      limit,
      windowMs + 1_000,
    ) as [number, number];
    return { ok: ok === 1, count: Number(count), resetMs, window: start };
  }

  async settle(key: string, delta: number, _windowMs: number, window: number): Promise<void> {
    if (delta === 0) return;
    await (await this.#redis()).eval(SETTLE, 1, `${key}@${window}`, delta);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const redis = await this.#redis();
    return await redis.set(`claim:${key}`, "1", "PX", Math.max(1, ttlMs), "NX") === "OK";
  }

  async close(): Promise<void> {
    if (!this.#client) return;
    const redis = await this.#client;
    this.#client = undefined;
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  }
}

function routeKey(route: string, bucketMs: number, start: number): string {
  return `route:${route}:${bucketMs}@${start}`;
}
