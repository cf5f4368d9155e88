/**
 * One timer for every request in flight. Instead of a `setTimeout` (and its clear) per
 * request, each upstream call registers a {@linkcode Watched} entry here; a single timer wakes
 * at the earliest deadline (at most once a second while anything is watched), expires what is
 * due and gives slow requests their `tick`. The timer runs only while something is watched.
 *
 * @module
 */

/** Longest sleep between checks while anything is watched, in ms. */
export const TICK_MS = 1000;
/** Shortest sleep between checks, so a burst of due entries is handled in one pass. */
const MIN_SLEEP_MS = 5;

/** Something with a deadline: a request waiting for its upstream, or a stream going quiet. */
export interface Watched {
  /** `performance.now()` past which {@linkcode Watched.expire} runs, unless pushed back. */
  deadline: number;
  /**
   * Called on each check before the deadline is compared; may push `deadline` back (a stream
   * that saw bytes since the last check) or start watching for more (a client hang-up).
   */
  tick(now: number): void;
  /** Called once when the deadline has passed; the entry is no longer watched. */
  expire(): void;
  /** The entry's place in the watchdog's table while watched (the watchdog's own field). */
  watchSlot?: number;
}

// Entries sit in an array of slots, not a Set: a freed slot is overwritten at once, where a
// hash table keeps deleted entries in the tables it rehashes away from. Those old tables sit
// in the old generation, and V8 treats every old-to-young pointer as a root when it collects
// the young generation: each request in flight would be kept alive (and promoted) with its
// whole object graph, and major collections would follow.
const slots: (Watched | undefined)[] = [];
const free: number[] = [];
let size = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let wakeAt = Infinity;

function schedule(at: number, now: number): void {
  if (timer !== undefined) clearTimeout(timer);
  wakeAt = Math.max(at, now + MIN_SLEEP_MS);
  timer = setTimeout(check, wakeAt - now);
}

function check(): void {
  timer = undefined;
  wakeAt = Infinity;
  const now = performance.now();
  let next = now + TICK_MS;
  for (let i = 0; i < slots.length; i++) {
    const entry = slots[i];
    if (entry === undefined) continue;
    entry.tick(now);
    if (entry.deadline <= now) {
      release(entry, i);
      try {
        entry.expire();
      } catch {
        // one failing entry must not keep the others from expiring
      }
    } else if (entry.deadline < next) {
      next = entry.deadline;
    }
  }
  if (size > 0) schedule(next, now);
}

function release(entry: Watched, slot: number): void {
  slots[slot] = undefined;
  entry.watchSlot = undefined;
  size--;
  if (size === 0) {
    slots.length = 0;
    free.length = 0;
  } else {
    free.push(slot);
  }
}

/**
 * Starts watching `entry`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unwatch, watch } from "./watchdog.ts";
 *
 * const late = new AbortController();
 * watch({ deadline: performance.now() + 10, tick() {}, expire: () => late.abort() });
 * await new Promise((expired) => late.signal.addEventListener("abort", expired));
 *
 * // an answer that comes in time stops the watch before its deadline
 * const onTime = { deadline: performance.now() + 500, tick() {}, expire: () => assert.fail() };
 * watch(onTime);
 * unwatch(onTime);
 * ```
 */
export function watch(entry: Watched, now: number = performance.now()): void {
  if (entry.watchSlot !== undefined) return;
  const slot = free.pop() ?? slots.length;
  slots[slot] = entry;
  entry.watchSlot = slot;
  size++;
  const soonest = Math.min(entry.deadline, now + TICK_MS);
  if (soonest < wakeAt) schedule(soonest, now);
}

/** Stops watching `entry` (nothing happens if it was not watched). */
export function unwatch(entry: Watched): void {
  const slot = entry.watchSlot;
  if (slot === undefined || slots[slot] !== entry) return;
  release(entry, slot);
  if (size > 0 || timer === undefined) return;
  clearTimeout(timer);
  timer = undefined;
  wakeAt = Infinity;
}

/** How many entries are watched now (for tests). */
export function watchedCount(): number {
  return size;
}
