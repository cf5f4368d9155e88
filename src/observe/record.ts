/**
 * The log line of a request, made from what its exchange holds when it ends: its facts, its
 * outcome code, the usage charged, and its client as the auth stage named it.
 *
 * @module
 */
import type { Client } from "../auth/auth.ts";
import { UNITS_PER_USD } from "../config/units.ts";
import type { Exchange } from "../exchange.ts";
import type { RequestRecord } from "./log.ts";

/**
 * The record of a request that has ended (`client` when the auth stage named one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { recordOf } from "./record.ts";
 *
 * const request = new Request("http://gateway/openai/v1/files");
 * const x = new Exchange(request, undefined, "id-1", "", "/openai/v1/files", () => {});
 * x.refuse("not_allowed", "GET /v1/files is not allowed on route openai");
 * const record = recordOf(x);
 * assert.equal(record.id, "id-1");
 * assert.equal(record.error, "not_allowed"); // the outcome code
 * ```
 */
export function recordOf(x: Exchange & { client?: Client }): RequestRecord {
  const record: RequestRecord = {
    time: x.time,
    id: x.id,
    route: x.route,
    client: x.client?.id,
    method: x.request.method,
    path: x.path,
    target: x.target,
    status: x.status,
    duration_ms: Math.round((performance.now() - x.start) * 10) / 10,
    ttfb_ms: x.ttfbMs,
    bytes_in: x.bytesIn,
    bytes_out: x.bytesOut,
    tokens: x.charge?.usage,
    tokens_estimated: x.charge?.estimated || undefined,
    cost_usd: x.cost === undefined ? undefined : x.cost / UNITS_PER_USD,
    error: x.outcome,
    detail: x.detail,
    aborted: x.aborted || undefined,
    retried: x.retried || undefined,
    session: x.session,
  };
  return record;
}
