/**
 * Sending through a key pool: the upstream's answer is reported to the pool's health, and a
 * request refused for its key (401, 403, 429) is sent once more on another key when its body
 * can be sent again.
 *
 * @module
 */
import { discard } from "../proxy/flight.ts";
import { KeyHealth } from "./health.ts";
import type { KeyEntry, KeySource } from "./source.ts";

/**
 * Sends with `key` from `pool` (`attempt` sends once with a given key), and once more on
 * another healthy key when the upstream blamed the key and `replayable`; `onRetry` hears of
 * the second try.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendWithPool } from "./pool.ts";
 * import { compileKeySource, type KeyEntry } from "./source.ts";
 *
 * const readers = { env: (name: string) => `key-${name}` };
 * const pool = compileKeySource({ pool: [{ env: "A" }, { env: "B" }] }, readers);
 * // the upstream refuses key A (429: it is out of quota) and takes key B
 * const attempt = (key: KeyEntry) =>
 *   Promise.resolve(new Response(key.origin, { status: key.origin === "env:A" ? 429 : 200 }));
 * const response = await sendWithPool(pool, pool.pick()!, attempt, true);
 * assert.equal(await response.text(), "env:B");
 * ```
 */
export async function sendWithPool(
  pool: KeySource,
  key: KeyEntry,
  attempt: (key: KeyEntry) => Promise<Response>,
  replayable: boolean,
  onRetry: () => void = () => {},
): Promise<Response> {
  const response = await attempt(key);
  pool.health.report(key, response.status, response.headers.get("retry-after"));
  if (!replayable || !KeyHealth.blamesKey(response.status)) return response;
  const other = pool.pick(key);
  if (!other) return response;
  // Dropped without ending the request: its log line and limits belong to the retry.
  await discard(response);
  onRetry();
  const retry = await attempt(other);
  pool.health.report(other, retry.status, retry.headers.get("retry-after"));
  return retry;
}
