/**
 * The JSON error model: `{"error":{"type":"...","message":"..."}}` with the status that
 * says what happened. Messages never hold a key, a token or a cookie.
 *
 * @module
 */

/** The error types keyward answers with, and their statuses. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  rate_limited: 429,
  internal_error: 500,
  bad_gateway: 502,
  key_unavailable: 503,
  store_unavailable: 503,
  server_busy: 503,
  gateway_timeout: 504,
} as const;

/** One of keyward's error types. */
export type ErrorType = keyof typeof ERROR_STATUS;

/**
 * Builds a JSON error response; `headers` (a `Headers` init, or a plain record of lower-case
 * names) are added to it.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./errors.ts";
 *
 * const response = errorResponse("forbidden", "POST /v1/files is not allowed on route openai");
 * if (response.status !== 403) throw new Error("wrong status");
 * ```
 */
export function errorResponse(
  type: ErrorType,
  message: string,
  headers?: HeadersInit,
): Response {
  const response = new Response(JSON.stringify({ error: { type, message } }), {
    status: ERROR_STATUS[type],
    headers,
  });
  response.headers.set("content-type", "application/json");
  return response;
}
