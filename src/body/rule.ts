/**
 * The body rule: enforces the body cap and the JSON body rules, and hands the forwarder the
 * body to send (the client's stream, capped; or the rewritten JSON).
 *
 * @module
 */
import type { Rule } from "../context.ts";
import { planFor, type RouteLimits } from "../limits/plan.ts";
import { errorResponse } from "../proxy/errors.ts";
import { BodyTooLarge, cappedBody, readCapped } from "./cap.ts";
import { watchBody } from "./deadline.ts";
import type { BodyRules } from "./rules.ts";

/** JSON bodies read for rules are refused past this size when the route sets no cap. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

const BODYLESS = new Set(["GET", "HEAD"]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function tooLarge(cap: number): Response {
  return errorResponse("payload_too_large", `The request body is larger than ${cap} bytes`);
}

/**
 * Compiles the body rule of a route. `rules` are its JSON rules; `strict` refuses bodies that
 * are not JSON (the route has rules a non-JSON body could slip past); `limits` give the cap.
 *
 * @example
 * ```ts
 * chain.push(bodyRule(compileBodyRules(route.body, "openai", false), true, limits));
 * ```
 */
export function bodyRule(
  rules: BodyRules | undefined,
  strict: boolean,
  limits: RouteLimits,
): Rule {
  return async (c, next) => {
    const state = c.get("state");
    const request = c.req.raw;
    if (BODYLESS.has(request.method) || !request.body) return await next();
    const plan = state.plan ??
      planFor(limits, state.record.client ?? "", state.authenticated === true);
    const cap = plan.body;
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (cap !== undefined && declared > cap) {
      state.record.error = "body too large";
      return tooLarge(cap);
    }
    const json = JSON_TYPE.test(request.headers.get("content-type") ?? "");
    if (rules && (json || strict)) {
      if (!json) {
        return errorResponse("invalid_request", "This route takes JSON bodies only");
      }
      let raw: Uint8Array<ArrayBuffer>;
      try {
        raw = await readCapped(watchBody(request.body, state), cap ?? MAX_JSON_BYTES);
      } catch (error) {
        if (state.refusal) return state.refusal; // the body timed out
        if (!(error instanceof BodyTooLarge)) throw error;
        state.record.error = "body too large";
        return tooLarge(cap ?? MAX_JSON_BYTES);
      }
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(raw));
      } catch {
        return errorResponse("invalid_request", "The request body is not valid JSON");
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return errorResponse("invalid_request", "The request body must be a JSON object");
      }
      const verdict = rules(body as Record<string, unknown>, state.upstreamPath ?? "");
      if ("type" in verdict) {
        state.record.error = `body rule: ${verdict.message}`;
        return errorResponse(verdict.type, verdict.message);
      }
      // An untouched body goes on as the bytes the client sent; a rewritten one is encoded once.
      const sent = verdict.changed ? encoder.encode(JSON.stringify(body)) : raw;
      state.body = sent;
      state.record.bytes_in = sent.byteLength;
    } else if (cap !== undefined && Number.isFinite(declared)) {
      // The server holds a body to its declared length, which is within the cap: the body can
      // go as it is, as a fixed-length upload.
      state.record.bytes_in = declared;
    } else if (cap !== undefined) {
      state.body = cappedBody(watchBody(request.body, state), cap, {
        onBytes: (bytes) => state.record.bytes_in = bytes,
        onExceeded: () => {
          state.record.error = "body too large";
          state.refusal = tooLarge(cap);
        },
      });
    }
    await next();
  };
}
