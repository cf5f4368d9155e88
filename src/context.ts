/**
 * What travels with one request through the rules chain: its log record, the matched route,
 * where it is going, and what must run when its response ends.
 *
 * @module
 */
import type { Hono, MiddlewareHandler } from "hono";
import type { Grant } from "./auth/grant.ts";
import type { LimitPlan } from "./limits/plan.ts";
import type { RequestRecord } from "./observe/log.ts";
import type { HeaderRecord } from "./proxy/headers.ts";
import type { CompiledRoute } from "./route.ts";

/** Per-request state shared by the rules and the forwarder. */
export interface RequestState {
  /** The log record, filled in as the request proceeds. */
  record: RequestRecord;
  /** `performance.now()` at arrival. */
  start: number;
  /** The decoded upstream path the allow list is checked against. */
  upstreamPath?: string;
  /** The URL the request will be sent to (without the key). */
  upstreamUrl?: URL;
  /** True when the client was authenticated (token, JWT, forward auth), not just addressed. */
  authenticated?: boolean;
  /** The body to send upstream instead of the client's (capped, or rewritten by rules). */
  body?: BodyInit;
  /** Longest silence while the client's body arrives, in ms (`server.timeouts.body`). */
  bodyTimeoutMs?: number;
  /** The limits that apply to this request's client, once the client is known. */
  plan?: LimitPlan;
  /** What a client token's claims narrow (models, limits, single use), when it has any. */
  grant?: Grant;
  /**
   * The answer to give instead of the forwarder's when a rule stopped the request mid-way
   * (a body past its cap aborts the upload; the client gets this, not a 502).
   */
  refusal?: Response;
  /**
   * Headers the gateway adds to whatever answers the request (request id, rate limits, CORS).
   * Rules add to it before passing on; the forwarder builds its response with them.
   */
  headers: HeaderRecord;
  /** The response that already carries `headers`; any other answer gets them added. */
  decorated?: Response;
  /** Set when the response body is a stream that ends later than the handler. */
  streaming: boolean;
  /** Run once when the response (stream included) has ended, in order. */
  finally: (() => void)[];
  /** Writes the log line; runs after every `finally` callback. */
  log: () => void;
}

/** The Hono environment of keyward's app. */
export type GatewayEnv = {
  Variables: {
    state: RequestState;
    route: CompiledRoute;
  };
};

/** A keyward middleware. */
export type Rule = MiddlewareHandler<GatewayEnv>;

/** keyward's Hono app type. */
export type GatewayApp = Hono<GatewayEnv>;

/** Runs a request's `finally` callbacks, then its log line, exactly once. */
export function finish(state: RequestState): void {
  const callbacks = state.finally;
  const log = state.log;
  state.finally = [];
  state.log = () => {};
  for (const callback of callbacks) {
    try {
      callback();
    } catch {
      // one failing callback must not keep the others (or the log line) from running
    }
  }
  log();
}
