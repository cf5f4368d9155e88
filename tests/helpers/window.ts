/**
 * Runs a limit test inside one window of the limit. Windows are fixed (they start at multiples
 * of their length since the epoch), so a run that crosses a boundary sees its counters start
 * over midway and cannot expect exact numbers. Such a run is not skipped: it is run once more,
 * from the start, in the new window (a run takes seconds, a window far longer).
 *
 * @module
 */

/** Window lengths in milliseconds, as `limits:` spells them. */
export const WINDOW_MS = { min: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/**
 * Runs `attempt` and returns what it returns; when the window of `windowMs` it started in has
 * ended by the time it returns, runs it a second time and returns that. `attempt` must set up
 * everything it counts on afresh (gateway, store, upstream), and leave its checks of exact
 * numbers to the caller, on the result.
 *
 * @example
 * ```ts
 * const statuses = await inOneWindow(WINDOW_MS.day, async () => await burst(...));
 * assert.equal(statuses.get(200), 5);
 * ```
 */
export async function inOneWindow<T>(windowMs: number, attempt: () => Promise<T>): Promise<T> {
  const window = Math.floor(Date.now() / windowMs);
  const result = await attempt();
  if (Math.floor(Date.now() / windowMs) === window) return result;
  return await attempt();
}
