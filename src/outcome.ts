/**
 * What became of a request, as a closed set of codes: the vocabulary the log line (`error`),
 * the metrics (`keyward_outcomes_total{outcome}`) and the tests share. A request that went
 * through and was answered by its upstream has no code; every refusal, failure and cut has
 * exactly one, with free text only in its `detail`.
 *
 * @module
 */
import type { ErrorType } from "./errors.ts";

/**
 * Every outcome code, with the error type a refusal for it answers with by default (the
 * status follows from the type, see `errors.ts`) and what it means.
 */
export const OUTCOMES = {
  // the browser guard
  browser_no_origin: ["forbidden", "a browser request from another origin that names none"],
  origin_not_allowed: ["forbidden", "a page on an origin the config does not list"],
  // the request head
  no_host: ["invalid_request", "a request that names no host (no Host header, no authority)"],
  // routing and paths
  not_found: ["not_found", "no route for the path"],
  bad_path: ["invalid_request", "a path with traversal or encoding tricks"],
  bad_target: ["invalid_request", "a target URL that is missing, malformed or not https"],
  target_not_allowed: ["forbidden", "a target host outside the route's hosts"],
  not_allowed: ["forbidden", "a method and path outside the allow list"],
  app_not_allowed: ["forbidden", "an app or agent outside body.apps"],
  // who is calling
  no_credentials: ["unauthorized", "no token, JWT or session where the route needs one"],
  unknown_token: ["unauthorized", "a token no client has"],
  jwt_refused: ["unauthorized", "a JWT that failed verification"],
  hook_refused: ["unauthorized", "the app's authorize hook refused"],
  forward_auth_refused: ["unauthorized", "the app's session endpoint refused"],
  forward_auth_failed: ["bad_gateway", "the app's session endpoint could not answer"],
  grant_refused: ["forbidden", "a client token's claims leave the request out"],
  grant_used: ["unauthorized", "a single-use token used again"],
  visitor_refused: ["unauthorized", "a visitor token that is forged or expired"],
  visitor_elsewhere: ["forbidden", "a visitor token used from another address prefix or origin"],
  // visitors earning tokens
  challenge_refused: [
    "invalid_request",
    "a visitor challenge that is forged, expired, answered before or not solved",
  ],
  challenge_elsewhere: [
    "forbidden",
    "a visitor challenge answered from another address prefix or origin",
  ],
  visitor_limit: ["rate_limited", "the address prefix has earned its per_address tokens"],
  turnstile_refused: ["unauthorized", "a Turnstile answer siteverify refused"],
  turnstile_failed: ["bad_gateway", "siteverify could not be asked"],
  // limits
  request_limit: ["rate_limited", "the request limit of the window is reached"],
  concurrency_limit: ["rate_limited", "the limit of requests in flight is reached"],
  token_budget: ["rate_limited", "the token budget cannot hold the request's worst case"],
  spend_budget: ["rate_limited", "the dollar budget cannot hold what the request could cost"],
  queue_timeout: ["rate_limited", "no turn came within limits.queue"],
  queue_left: ["rate_limited", "the client left while waiting in the queue"],
  store_unavailable: ["store_unavailable", "the limit store could not be reached"],
  // the request body
  body_too_large: ["payload_too_large", "a body past the route's cap or the body memory"],
  body_memory_full: ["server_busy", "the body memory is held by other requests"],
  body_refused: ["invalid_request", "a body the body rules refuse"],
  body_missing: ["invalid_request", "no body where the body rules must read one"],
  body_coding: ["invalid_request", "a body the rules must read sent in a content coding"],
  body_unreadable: ["invalid_request", "a body the client broke off or that could not be read"],
  body_timeout: ["request_timeout", "a body that stopped arriving"],
  // the key
  key_unavailable: ["key_unavailable", "the route's key is not configured"],
  // the upstream
  upstream_timeout: ["gateway_timeout", "the upstream did not answer in time"],
  upstream_unreachable: ["bad_gateway", "the upstream could not be reached"],
  upstream_coding: ["bad_gateway", "a body in a content coding the gateway did not offer"],
  upstream_silent: ["gateway_timeout", "the upstream went silent mid-body"],
  upstream_broken: ["bad_gateway", "the upstream broke the body off"],
  upstream_too_large: ["bad_gateway", "a scanned upstream body past its cap"],
  client_closed: ["bad_gateway", "the client hung up before the answer ended"],
  // WebSocket sessions (a close code goes with each one that ends a session)
  socket_unavailable: [
    "server_busy",
    "an upgrade this runtime or listener cannot accept (see docs/realtime.md)",
  ],
  bad_upgrade: ["invalid_request", "a WebSocket handshake that is malformed"],
  frame_refused: ["forbidden", "a frame the rules refuse (model, claims, price, deny): 1008"],
  frame_too_large: ["payload_too_large", "a frame past limits.body: 1009"],
  session_time: ["request_timeout", "a session that reached limits.session: 1008"],
  session_idle: ["request_timeout", "a session silent both ways for limits.timeout: 1000"],
  client_slow: ["server_busy", "a client that could not keep up with its upstream: 1008"],
  upstream_slow: ["bad_gateway", "an upstream that could not keep up with its client: 1013"],
  server_stopping: ["server_busy", "the gateway stopped while the session was open: 1001"],
  secret_refused: [
    "forbidden",
    "an ephemeral key asked for on a route that counts tokens or dollars",
  ],
  // the gateway itself
  internal: ["internal_error", "the gateway failed"],
} as const satisfies Record<string, readonly [ErrorType, string]>;

/** One outcome code. */
export type OutcomeCode = keyof typeof OUTCOMES;

/**
 * The error type a refusal for `code` answers with.
 *
 * @example
 * ```ts
 * import { errorTypeOf } from "./outcome.ts";
 *
 * if (errorTypeOf("request_limit") !== "rate_limited") throw new Error("wrong type");
 * ```
 */
export function errorTypeOf(code: OutcomeCode): ErrorType {
  return OUTCOMES[code][0];
}
