/**
 * The queue rule (`limits.queue`): takes the client's in-flight slot and waits for a cooling
 * key pool, and when either is not to be had, waits in the route's queue (see queue.ts)
 * instead of answering 429 at once. It runs after the body rules, so it knows a stream
 * request: one (`Accept: text/event-stream`, or `"stream": true` in its body) that has to wait
 * is answered at once with an event stream that carries SSE comments as heartbeats while it
 * waits, so proxies and browsers keep it open; the upstream's stream follows in the same
 * response, or an `event: error` when the wait or the request fails.
 *
 * @module
 */
import { finish, type RequestState, type Rule } from "../context.ts";
import type { KeyHealth } from "../keys/health.ts";
import { errorResponse } from "../proxy/errors.ts";
import type { LimitStore } from "../store/store.ts";
import { planFor, type RouteLimits } from "./plan.ts";
import type { RouteQueue } from "./queue.ts";
import { bodyFacts } from "./reserve.ts";
import { SLOT_TTL_MS } from "./rule.ts";

/** How often a waiting stream gets a heartbeat comment. */
export const HEARTBEAT_MS = 5_000;

/** What the queue rule of a route needs. */
export interface QueueOptions {
  /** The route's name (counter keys). */
  route: string;
  /** The route's limits. */
  limits: RouteLimits;
  /** Where in-flight slots are counted. */
  store: LimitStore;
  /** The route's queue. */
  queue: RouteQueue;
  /** The health of the route's key pool, when it has several keys. */
  pool?: KeyHealth;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": waiting for a turn\n\n");

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * Compiles a route's queue rule.
 *
 * @example
 * ```ts
 * const queue = board.add(new RouteQueue("openai", 30_000));
 * chain.push(queueRule({ route: "openai", limits, store, queue, pool: route.keys?.health }));
 * ```
 */
export function queueRule(options: QueueOptions): Rule {
  const { route, limits, store, queue, pool } = options;
  return async (c, next) => {
    const state = c.get("state");
    const client = state.record.client ?? "unknown";
    const plan = state.plan ?? planFor(limits, client, state.authenticated === true);
    const concurrent = plan.concurrent;
    const key = `concurrent:${route}:${client}`;
    let slot: string | undefined;
    const take = async () => {
      if (pool && pool.readyInMs() > 0) return false;
      if (concurrent && slot === undefined) {
        slot = await store.acquire(key, concurrent, SLOT_TTL_MS);
        if (slot === undefined) return false;
      }
      return true;
    };
    const release = () => {
      if (slot === undefined) return;
      const taken = slot;
      slot = undefined;
      void store.release(key, taken).catch(() => {}).finally(() => queue.wake());
    };
    let ready: boolean;
    try {
      // Nobody jumps the line: with others waiting, a newcomer waits behind them.
      ready = queue.length === 0 && await take();
    } catch (error) {
      state.record.error = `limit store unavailable: ${(error as Error).name}`;
      return errorResponse("store_unavailable", "The limit store cannot be reached");
    }
    if (ready) {
      state.finally.push(release);
      return await next();
    }
    const refusal = () => {
      const ms = pool?.readyInMs() ?? 0;
      state.record.error = ms > 0 ? "key pool cooling (queued)" : "concurrency limit (queued)";
      return errorResponse(
        "rate_limited",
        ms > 0
          ? `Every key of route ${route} is cooling down; no turn came within the queue's time`
          : `Limit of ${concurrent} requests in flight reached; no turn came within the queue's time`,
        { "retry-after": seconds(Math.max(ms, 1000)) },
      );
    };
    const request = c.req.raw;
    const stream = request.headers.get("accept")?.includes("text/event-stream") ||
      (state.body instanceof Uint8Array && bodyFacts(state.body).stream === true);
    if (!stream) {
      const outcome = await queue.wait(take, request.signal);
      if (outcome !== "served") {
        release();
        if (outcome === "timeout") return refusal();
        // Nobody reads this answer; the log line says why.
        state.record.aborted = true;
        state.record.error = "client left the queue";
        return errorResponse("rate_limited", "The client left the queue");
      }
      state.finally.push(release);
      return await next();
    }
    // The body rule lets go of the body it read once this rule has answered; the rules after
    // this one run later, and need it back.
    const held = state.body;
    return heartbeatStream(state, queue, take, release, refusal, async () => {
      state.body = held;
      const before = c.res;
      await next();
      return c.res === before ? undefined : c.res;
    });
  };
}

/**
 * Answers a waiting stream request at once: heartbeats while it waits, then the rest of the
 * chain's answer, streamed into the same response.
 */
function heartbeatStream(
  state: RequestState,
  queue: RouteQueue,
  take: () => Promise<boolean>,
  release: () => void,
  refusal: () => Response,
  rest: () => Promise<Response | undefined>,
): Response {
  const left = new AbortController();
  let beat: ReturnType<typeof setInterval> | undefined;
  let upstream: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // The answer is a stream that ends later: the log line and `finally` wait for it.
  state.streaming = true;
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

  const end = (answer: Response | undefined, ownFinish: boolean) => {
    if (answer) state.record.status = answer.status;
    if (ownFinish) {
      state.streaming = true; // the log line closes the stream it opened
      finish(state);
    }
  };

  async function run(controller: ReadableStreamDefaultController<Uint8Array>) {
    const outcome = await queue.wait(take, left.signal);
    if (outcome !== "served") {
      clearInterval(beat);
      release();
      if (outcome === "aborted") {
        state.record.aborted = true;
        state.record.error = "client left the queue";
        end(undefined, true);
        return;
      }
      const answer = refusal();
      await writeAnswer(controller, answer);
      end(answer, true);
      return;
    }
    state.finally.push(release);
    // Whoever streams the answer (the forwarder's relay) finishes the request when it ends.
    state.streaming = false;
    let answer: Response | undefined;
    try {
      answer = await rest();
    } catch {
      answer = errorResponse("internal_error", "The gateway failed to handle the request");
    }
    clearInterval(beat);
    const streamed = state.streaming;
    if (left.signal.aborted) {
      await answer?.body?.cancel().catch(() => {});
      end(answer, !streamed);
      return;
    }
    const isStream = answer?.headers.get("content-type")?.startsWith("text/event-stream");
    if (answer && answer.status < 300 && answer.body && isStream) {
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
      end(answer, !streamed);
      return;
    }
    if (answer) await writeAnswer(controller, answer);
    end(answer, !streamed);
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

/**
 * Ends a heartbeat stream with an answer that is not an event stream: a success as one `data:`
 * event, an error (the gateway's or the upstream's) as `event: error`.
 */
async function writeAnswer(
  controller: ReadableStreamDefaultController<Uint8Array>,
  answer: Response,
): Promise<void> {
  let text = "";
  try {
    text = (await answer.text()).slice(0, 64 * 1024);
  } catch {
    // nothing readable
  }
  let data: string;
  try {
    data = JSON.stringify(JSON.parse(text));
  } catch {
    data = JSON.stringify({
      error: { type: "upstream_error", message: `Status ${answer.status}` },
    });
  }
  try {
    controller.enqueue(encoder.encode(`event: error\ndata: ${data}\n\n`));
    controller.close();
  } catch {
    // the client is gone
  }
}
