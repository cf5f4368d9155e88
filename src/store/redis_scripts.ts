/**
 * The Lua scripts of the Redis store: each runs atomically on the server, so a check and the
 * change it guards cannot be split by another instance. Each touches one key, so each runs on
 * one node of a Redis Cluster. Amounts travel as decimal strings and Lua keeps them in
 * doubles, exact up to 2^53; the counters themselves are Redis's 64-bit integers.
 *
 * @module
 */

/**
 * KEYS[1] the window counter; ARGV amount, TTL in ms. Adds the amount and returns the total;
 * the first add sets the expiry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ADD } from "./redis_scripts.ts";
 *
 * assert.match(ADD, /INCRBY/);
 * ```
 */
export const ADD = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`;

/**
 * KEYS[1] the window counter; ARGV amount, limit, TTL in ms. Adds the amount only when the
 * total stays within the limit; returns `{ok, count}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RESERVE } from "./redis_scripts.ts";
 *
 * assert.match(RESERVE, /INCRBY/);
 * ```
 */
export const RESERVE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if n + amount > tonumber(ARGV[2]) then return {0, n} end
n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == amount then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, n}`;

/**
 * KEYS[1] the window counter; ARGV delta. Adds the delta to a window that still exists, never
 * taking the count below zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SETTLE } from "./redis_scripts.ts";
 *
 * assert.match(SETTLE, /EXISTS/);
 * ```
 */
export const SETTLE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n < 0 then redis.call('SET', KEYS[1], '0', 'KEEPTTL') end
return 1`;

/**
 * KEYS[1] a slot set; ARGV max, TTL in ms, slot id. Slots are members of a sorted set scored
 * by when they were taken, so a slot whose instance died is dropped once it is older than the
 * TTL, without touching live ones. Returns 1 when the slot was taken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ACQUIRE } from "./redis_scripts.ts";
 *
 * assert.match(ACQUIRE, /ZADD/);
 * ```
 */
export const ACQUIRE = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/**
 * KEYS[1] a route's bucket; ARGV requests, errors, tokens, TTL in ms, spend. A bucket is a hash
 * of the four counters, expiring with the bucket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ADD_ROUTE } from "./redis_scripts.ts";
 *
 * assert.match(ADD_ROUTE, /HINCRBY/);
 * ```
 */
export const ADD_ROUTE = `
redis.call('HINCRBY', KEYS[1], 'requests', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'errors', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3])
if ARGV[5] ~= '0' then redis.call('HINCRBY', KEYS[1], 'spend', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/**
 * KEYS[1] a window's member set; ARGV member, cap, TTL in ms. Adds the member unless it is in
 * already or the set is full; returns 1 when it was added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOTE } from "./redis_scripts.ts";
 *
 * assert.match(NOTE, /SADD/);
 * ```
 */
export const NOTE = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;
