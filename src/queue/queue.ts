/**
 * `limits.queue`: a request that would get 429 for its client's `concurrent` limit, or because
 * every key of its route's pool is cooling down, waits its turn instead, up to the route's
 * queue duration, first come first served per route. Waiters try again, in arrival order, as
 * soon as a slot of this process is given back, and every {@linkcode POLL_MS} for what other
 * instances free or a key coming back. A waiter whose client hangs up leaves at once.
 *
 * @module
 */
import { deferred } from "../deferred.ts";

/** How often waiters try again when nothing in this process woke them. */
export const POLL_MS = 100;

/** How a wait ended. */
export type WaitOutcome = "served" | "timeout" | "aborted";

/** One route's waiting requests and expected wait, for metrics and the status page. */
export interface QueueSnapshot {
  /** The route's name. */
  route: string;
  /** Requests waiting now. */
  waiting: number;
  /** How long a request arriving now is expected to wait, in milliseconds. */
  expected_wait_ms: number;
}

interface Waiter {
  take: () => Promise<boolean>;
  done: (outcome: WaitOutcome) => void;
  since: number;
}

/** Weight of the newest observed wait in the moving average. */
const SMOOTHING = 0.3;

/** The waiting line of one route. */
export class RouteQueue {
  /** The route's name. */
  readonly route: string;
  /** The longest a request waits, in milliseconds. */
  readonly maxWaitMs: number;
  #waiters: Waiter[] = [];
  #pumping = false;
  #again = false;
  #timer?: ReturnType<typeof setTimeout>;
  /** Moving average of how long served waiters waited. */
  #averageMs = 0;

  /** A line for `route` where requests wait at most `maxWaitMs`. */
  constructor(route: string, maxWaitMs: number) {
    this.route = route;
    this.maxWaitMs = maxWaitMs;
  }

  /** Requests waiting now. */
  get length(): number {
    return this.#waiters.length;
  }

  /**
   * Waits until `take` succeeds (it tries to take what the request lacks: a slot, a ready
   * key), the queue's time runs out, or `signal` aborts.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RouteQueue } from "./queue.ts";
   *
   * const queue = new RouteQueue("openai", 30_000);
   * let free = false; // the one slot is taken by another request
   * const waiting = queue.wait(() => Promise.resolve(free));
   * free = true; // that request ends and gives its slot back
   * queue.wake();
   * assert.equal(await waiting, "served");
   *
   * const client = new AbortController();
   * const left = queue.wait(() => Promise.resolve(false), client.signal);
   * client.abort(); // the client hung up
   * assert.equal(await left, "aborted");
   * ```
   */
  wait(take: () => Promise<boolean>, signal?: AbortSignal): Promise<WaitOutcome> {
    if (signal?.aborted) return Promise.resolve("aborted");
    const { promise, resolve } = deferred<WaitOutcome>();
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const leave = (outcome: WaitOutcome) => {
      const index = this.#waiters.indexOf(waiter);
      if (index === -1) return;
      this.#waiters.splice(index, 1);
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (outcome === "served") {
        const waited = performance.now() - waiter.since;
        this.#averageMs = this.#averageMs === 0
          ? waited
          : this.#averageMs + SMOOTHING * (waited - this.#averageMs);
      }
      if (this.#waiters.length === 0) this.#stopPolling();
      resolve(outcome);
    };
    const onAbort = () => leave("aborted");
    const waiter: Waiter = { take, done: leave, since: performance.now() };
    this.#waiters.push(waiter);
    timer = setTimeout(() => leave("timeout"), this.maxWaitMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#poll();
    // Those ahead try first; a newcomer whose turn is free now goes at once.
    void this.#pump();
    return promise;
  }

  /** Something was freed: waiters try again now, in order. */
  wake(): void {
    if (this.#waiters.length > 0) void this.#pump();
  }

  /** Waiting requests and the expected wait. */
  snapshot(): QueueSnapshot {
    const waiting = this.#waiters.length;
    const head = waiting ? performance.now() - this.#waiters[0].since : 0;
    // Each waiter ahead took about the average to be served; the head has waited `head`.
    const expected = waiting === 0 ? 0 : Math.max(this.#averageMs, head) * (waiting + 1) / 2;
    return {
      route: this.route,
      waiting,
      expected_wait_ms: Math.round(Math.min(expected, this.maxWaitMs)),
    };
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        for (const waiter of [...this.#waiters]) {
          if (!this.#waiters.includes(waiter)) continue; // left while others tried
          let taken = false;
          try {
            taken = await waiter.take();
          } catch {
            taken = false; // the store is away: keep waiting, the clock still runs
          }
          // A waiter that left meanwhile gives back what it took itself (see queue_stage.ts).
          if (taken) waiter.done("served");
        }
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  #poll() {
    if (this.#timer !== undefined) return;
    const tick = () => {
      this.#timer = undefined;
      if (this.#waiters.length === 0) return;
      void this.#pump().finally(() => {
        if (this.#waiters.length > 0 && this.#timer === undefined) {
          this.#timer = setTimeout(tick, POLL_MS);
        }
      });
    };
    this.#timer = setTimeout(tick, POLL_MS);
  }

  #stopPolling() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Every route's queue, for metrics and the status page. */
export class QueueBoard {
  #queues: RouteQueue[] = [];

  /** Adds a route's queue. */
  add(queue: RouteQueue): RouteQueue {
    this.#queues.push(queue);
    return queue;
  }

  /**
   * Each queued route's waiting requests and expected wait.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { QueueBoard, RouteQueue } from "./queue.ts";
   *
   * const board = new QueueBoard();
   * board.add(new RouteQueue("openai", 30_000));
   * assert.deepEqual(board.snapshot(), [{ route: "openai", waiting: 0, expected_wait_ms: 0 }]);
   * ```
   */
  snapshot(): QueueSnapshot[] {
    return this.#queues.map((queue) => queue.snapshot());
  }
}
