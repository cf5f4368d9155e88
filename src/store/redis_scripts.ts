/**
 * The Lua scripts behind the Redis store's reservations: each runs atomically on the server,
 * so a check and the change it guards cannot be split by another instance.
 *
 * @module
 */

/**
 * KEYS[1] the window counter; ARGV amount, limit, TTL in ms. Adds the amount only when the
 * total stays within the limit; returns `{ok, count}`.
 */
export const RESERVE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if n + amount > tonumber(ARGV[2]) then return {0, n} end
n = redis.call('INCRBY', KEYS[1], amount)
if n == amount then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, n}`;

/**
 * KEYS[1] the window counter; ARGV delta. Adds the delta to a window that still exists, never
 * taking the count below zero.
 */
export const SETTLE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n < 0 then redis.call('INCRBY', KEYS[1], -n) end
return 1`;
