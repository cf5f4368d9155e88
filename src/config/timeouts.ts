/**
 * The server's timeouts for quiet clients, with nginx's defaults filled in
 * (`client_header_timeout 60s`, `client_body_timeout 60s`, `keepalive_timeout 75s`).
 *
 * @module
 */
import type { TimeoutsConfig } from "./types.ts";

/** Every timeout, in milliseconds. */
export type Timeouts = Required<TimeoutsConfig>;

/** The timeouts used when `server.timeouts` leaves them out. */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  header: 60_000,
  body: 60_000,
  idle: 75_000,
});

/**
 * The configured timeouts with the defaults for those left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTimeouts } from "./timeouts.ts";
 *
 * assert.deepEqual(resolveTimeouts({ idle: 5000 }), { header: 60_000, body: 60_000, idle: 5000 });
 * ```
 */
export function resolveTimeouts(config: TimeoutsConfig | undefined): Timeouts {
  return {
    header: config?.header ?? DEFAULT_TIMEOUTS.header,
    body: config?.body ?? DEFAULT_TIMEOUTS.body,
    idle: config?.idle ?? DEFAULT_TIMEOUTS.idle,
  };
}
