/**
 * The queue stage (`limits.queue`): takes the client's in-flight slot and waits for a cooling
 * key pool, and when either is not to be had, waits in the route's queue (see queue.ts)
 * instead of answering 429 at once. It runs after the body stage, so it knows a stream
 * request: one (`Accept: text/event-stream`, or `"stream": true` in its body) that has to wait
 * is answered at once with an event stream that carries SSE comments as heartbeats while it
 * waits, so proxies and browsers keep it open; the upstream's stream follows in the same
 * response, or an `event: error` when the wait or the request fails.
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import { errorResponse } from "../errors.ts";
import type { Exchange } from "../exchange.ts";
import type { KeyHealth } from "../keys/health.ts";
import { type PlanVariables, retryAfter, slotTtl, storeDown } from "../limits/limits.ts";
import type { BodyVariables } from "../body/body.ts";
import type { Stage } from "../stage.ts";
import type { LimitStore } from "../store/store.ts";
import type { RouteQueue } from "./queue.ts";

/** How often a waiting stream gets a heartbeat comment. */
export const HEARTBEAT_MS = 5_000;

/** What the queue stage of a route needs. */
export interface QueueSettings {
  /** The route's name (counter keys). */
  route: string;
  /** Where in-flight slots are counted. */
  store: LimitStore;
  /** The route's queue. */
  queue: RouteQueue;
  /** The health of the route's key pool, when it has several keys. */
  pool?: KeyHealth;
  /** The route's ceiling of requests in flight over all its clients (`limits.route`). */
  routeConcurrent?: number;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": waiting for a turn\n\n");

/**
 * Compiles a route's queue stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { MemoryStore } from "../store/memory.ts";
 * import { RouteQueue } from "./queue.ts";
 * import { queueStage } from "./queue_stage.ts";
 *
 * const stage = queueStage({
 *   route: "openai",
 *   store: new MemoryStore(),
 *   queue: new RouteQueue("openai", 30_000),
 * });
 *
 * const request = new Request("http://gateway/openai/v1/models");
 * const exchange = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 * // with what the stages before it published: the client, its limits, its body
 * const x = Object.assign(exchange, {
 *   client: { id: "alice", authenticated: true },
 *   plan: { concurrent: 1 },
 *   body: { send: null, declared: false, generates: false, facts: {}, release() {} },
 * });
 * const answer = await stage(x, () => Promise.resolve(new Response("from upstream")));
 * assert.equal(await answer.text(), "from upstream"); // a slot was free: no wait
 * x.answer(answer); // the request ends and gives its slot back
 * ```
 */
export function queueStage(
  settings: QueueSettings,
): Stage<ClientVariables & PlanVariables & BodyVariables> {
  const { route, store, queue, pool, routeConcurrent } = settings;
  const routeKey = `concurrent:${route}`;
  return async (x, next) => {
    const concurrent = x.plan.concurrent;
    const key = `concurrent:${route}:${x.client.id}`;
    let slot: string | undefined;
    let routeSlot: string | undefined;
    /** What the last try lacked. */
    let lacking: "pool" | "client" | "route" = "client";
    const take = async () => {
      if (pool && pool.readyInMs() > 0) {
        lacking = "pool";
        return false;
      }
      if (concurrent && slot === undefined) {
        slot = await store.acquire(key, concurrent, slotTtl(x.request, x.plan));
        if (slot === undefined) {
          lacking = "client";
          return false;
        }
      }
      if (routeConcurrent && routeSlot === undefined) {
        routeSlot = await store.acquire(routeKey, routeConcurrent, slotTtl(x.request, x.plan));
        if (routeSlot === undefined) {
          lacking = "route";
          return false;
        }
      }
      return true;
    };
    const release = () => {
      const taken = [[key, slot], [routeKey, routeSlot]] as const;
      slot = routeSlot = undefined;
      const given = taken.filter(([, s]) => s !== undefined).map(([k, s]) =>
        store.release(k, s!).catch(() => {})
      );
      if (given.length) void Promise.all(given).finally(() => queue.wake());
    };
    let ready: boolean;
    try {
      // Nobody jumps the line: with others waiting, a newcomer waits behind them.
      ready = queue.length === 0 && await take();
    } catch (error) {
      return storeDown(x, error);
    }
    if (ready) {
      x.onEnd(release);
      return await next();
    }
    const refusal = () => {
      const ms = pool?.readyInMs() ?? 0;
      const cooling = lacking === "pool" && ms > 0;
      return x.refuse(
        "queue_timeout",
        cooling
          ? `Every key of route ${route} is cooling down; no turn came within the queue's time`
          : lacking === "route"
          ? `Route ${route} has reached its limit of ${routeConcurrent} requests in flight; ` +
            "no turn came within the queue's time"
          : `Limit of ${concurrent} requests in flight reached; no turn came within the queue's time`,
        retryAfter(Math.max(ms, 1000)),
        undefined,
        cooling
          ? "key pool cooling"
          : lacking === "route"
          ? "route concurrency"
          : "concurrency limit",
      );
    };
    const request = x.request;
    const stream = request.headers.get("accept")?.includes("text/event-stream") ||
      x.body.facts.stream === true;
    if (!stream) {
      const outcome = await queue.wait(take, request.signal);
      if (outcome !== "served") {
        release();
        if (outcome === "timeout") return refusal();
        // Nobody reads this answer; the log line says why.
        x.aborted = true;
        return x.refuse("queue_left", "The client left the queue");
      }
      x.onEnd(release);
      return await next();
    }
    return heartbeatStream(x, queue, take, release, refusal, () => next());
  };
}

/**
 * Answers a waiting stream request at once: heartbeats while it waits, then the rest of the
 * line's answer, streamed into the same response. The request is held until that stream ends.
 */
function heartbeatStream(
  x: Exchange,
  queue: RouteQueue,
  take: () => Promise<boolean>,
  release: () => void,
  refusal: () => Response,
  rest: () => Promise<Response>,
): Response {
  const left = new AbortController();
  let beat: ReturnType<typeof setInterval> | undefined;
  let upstream: ReadableStreamDefaultReader<Uint8Array> | undefined;
  x.hold();
  let ended = false;
  const end = (answer: Response | undefined) => {
    if (ended) return;
    ended = true;
    if (answer) x.status = answer.status;
    x.release();
  };
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => {
      controller.enqueue(HEARTBEAT);
      beat = setInterval(() => controller.enqueue(HEARTBEAT), HEARTBEAT_MS);
      void run(controller);
    },
    cancel: () => {
      left.abort();
      clearInterval(beat);
      upstream?.cancel().catch(() => {});
    },
  }, { highWaterMark: 0 });

  async function run(controller: ReadableStreamDefaultController<Uint8Array>) {
    const outcome = await queue.wait(take, left.signal);
    if (outcome !== "served") {
      clearInterval(beat);
      release();
      if (outcome === "aborted") {
        x.aborted = true;
        x.note("queue_left");
        end(undefined);
        return;
      }
      const answer = refusal();
      await writeAnswer(controller, answer);
      end(answer);
      return;
    }
    x.onEnd(release);
    let answer: Response | undefined;
    try {
      answer = await rest();
    } catch (error) {
      x.note("internal", (error as Error).name);
      answer = errorResponse("internal_error", "The gateway failed to handle the request");
    }
    clearInterval(beat);
    if (left.signal.aborted) {
      await answer.body?.cancel().catch(() => {});
      end(answer);
      return;
    }
    const isStream = answer.headers.get("content-type")?.startsWith("text/event-stream");
    if (answer.status < 300 && answer.body && isStream) {
      upstream = answer.body.getReader();
      try {
        for (;;) {
          const { done, value } = await upstream.read();
          if (done) break;
          controller.enqueue(value);
        }
        controller.close();
      } catch {
        // the client hung up (cancel) or the upstream failed: the relay has ended it
      }
      end(answer);
      return;
    }
    await writeAnswer(controller, answer);
    end(answer);
  }

  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}

/** The most of an error answer's body that goes into the `event: error` that ends a stream. */
const ERROR_BYTES = 64 * 1024;

/**
 * Ends a heartbeat stream with an answer that is not an event stream: a success as one `data:`
 * event holding its whole JSON body, an error (the gateway's or the upstream's, or a success
 * that is not JSON) as `event: error`.
 */
async function writeAnswer(
  controller: ReadableStreamDefaultController<Uint8Array>,
  answer: Response,
): Promise<void> {
  let text = "";
  try {
    text = await answer.text();
  } catch {
    // nothing readable
  }
  let event = "";
  let data: string | undefined;
  try {
    if (answer.status < 300) data = JSON.stringify(JSON.parse(text));
  } catch {
    // not JSON: said as an error below
  }
  if (data === undefined) {
    event = "event: error\n";
    try {
      data = JSON.stringify(JSON.parse(text.slice(0, ERROR_BYTES)));
    } catch {
      data = JSON.stringify({
        error: { type: "upstream_error", message: `Status ${answer.status}` },
      });
    }
  }
  try {
    controller.enqueue(encoder.encode(`${event}data: ${data}\n\n`));
    controller.close();
  } catch {
    // the client is gone
  }
}
