/**
 * The body rule: enforces the body cap and the JSON body rules, and hands the forwarder the
 * body to send (the client's stream, capped; or the bytes the rules read, edited in place).
 *
 * A body the rules read is held whole, so it is bounded twice: by its route's cap
 * (`limits.body`, else {@linkcode DEFAULT_RULES_BODY_BYTES}), answered with 413; and by the
 * gateway's budget across all requests (`server.body_memory`), answered with 503 and
 * `Retry-After`. The bytes are scanned, not parsed (see `scan.ts`).
 *
 * @module
 */
import type { RequestState, Rule } from "../context.ts";
import { planFor, type RouteLimits } from "../limits/plan.ts";
import { errorResponse } from "../proxy/errors.ts";
import { applyBodyRules } from "./apply.ts";
import type { BodyBudget, BodyLease } from "./budget.ts";
import { BodyBudgetFull, BodyTooLarge, cappedBody, readHeld } from "./cap.ts";
import { watchBody } from "./deadline.ts";
import type { BodyRules } from "./rules.ts";
import { SPLICE_ROOM } from "./splice.ts";
import { checkForm } from "./form.ts";
import type { BodyPlan } from "./rules.ts";

/**
 * JSON bodies read for rules are refused past this size when the route sets no `limits.body`.
 * 4 MiB holds a chat request of about a million tokens of text; a base64 image is larger
 * than its file by a third, so routes that take images in JSON may need to raise it.
 */
export const DEFAULT_RULES_BODY_BYTES = 4 * 1024 * 1024;

/** Seconds a client is asked to wait when the body budget is full. */
const RETRY_AFTER_SECONDS = "1";

const BODYLESS = new Set(["GET", "HEAD"]);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const FORM_TYPE = /^multipart\/form-data\s*;/i;

function tooLarge(cap: number): Response {
  return errorResponse("payload_too_large", `The request body is larger than ${cap} bytes`);
}

function beyondBudget(budget: BodyBudget): Response {
  return errorResponse(
    "payload_too_large",
    `The request body is larger than the ${budget.limit} bytes this gateway holds for body rules`,
  );
}

function busy(): Response {
  return errorResponse(
    "server_busy",
    "The gateway is holding as many request bodies as it can; retry shortly",
    { "retry-after": RETRY_AFTER_SECONDS },
  );
}

/**
 * Compiles the body rule of a route. `rules` are its JSON rules, which say per endpoint
 * whether they read its bodies and what becomes of one that is not JSON (see `BodyPlan`);
 * `limits` give the cap; `budget` bounds the bytes held for rules across every request of
 * the gateway.
 *
 * @example
 * ```ts
 * const budget = new BodyBudget(64 * 1024 * 1024);
 * chain.push(bodyRule(compileBodyRules(route.body, "openai", false), limits, budget));
 * ```
 */
export function bodyRule(
  rules: BodyRules | undefined,
  limits: RouteLimits,
  budget: BodyBudget,
): Rule {
  return async (c, next) => {
    const state = c.get("state");
    const request = c.req.raw;
    if (BODYLESS.has(request.method) || !request.body) return await next();
    const plan = state.plan ??
      planFor(limits, state.record.client ?? "", state.authenticated === true);
    const cap = plan.body;
    const declared = Number(request.headers.get("content-length") ?? NaN);
    // An empty body carries no fields (a POST that only names its path, like a cancel).
    if (declared === 0) return await next();
    if (cap !== undefined && declared > cap) {
      state.record.error = "body too large";
      return tooLarge(cap);
    }
    const type = request.headers.get("content-type") ?? "";
    const json = JSON_TYPE.test(type);
    const bodyPlan = rules?.plan(request.method, state.upstreamPath ?? "");
    if (rules && bodyPlan && (json || bodyPlan.other !== "pass")) {
      // A form is read only for its model; any other body the rules cannot read is refused.
      const form = !json && bodyPlan.other === "form" && FORM_TYPE.test(type);
      if (!json && !form) {
        const what = bodyPlan.other === "form" ? "JSON or multipart form bodies" : "JSON bodies";
        return errorResponse("invalid_request", `This route takes ${what} only`);
      }
      const limit = cap ?? DEFAULT_RULES_BODY_BYTES;
      if (declared > limit) {
        state.record.error = "body too large";
        return tooLarge(limit);
      }
      const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
      if (length !== undefined && length > budget.limit) {
        state.record.error = "body too large";
        return beyondBudget(budget);
      }
      // Reserved before a byte is read when the length is known; else as the bytes come.
      const lease = budget.lease(length ?? 0);
      if (!lease) {
        state.record.error = "body memory full";
        return busy();
      }
      try {
        const refused = await readForRules(
          watchBody(request.body, state),
          rules,
          limit,
          budget,
          lease,
          length,
          state,
          form ? type : bodyPlan,
        );
        if (refused) return refused;
        await next();
      } finally {
        lease.release();
        // Sent by now: the forwarder has its answer. Nothing keeps the bytes alive for the
        // length of a streamed response.
        state.body = undefined;
      }
      return;
    }
    if (cap !== undefined && Number.isFinite(declared)) {
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

/**
 * Reads a body for the rules and applies them (`plan` for a JSON body, or the form's content
 * type for a form read for its model); sets `state.body` to what goes upstream, or returns
 * the refusal. The bytes read live only as long as this call, or as `state.body`.
 */
async function readForRules(
  body: ReadableStream<Uint8Array>,
  rules: BodyRules,
  limit: number,
  budget: BodyBudget,
  lease: BodyLease,
  length: number | undefined,
  state: RequestState,
  plan: BodyPlan | string,
): Promise<Response | undefined> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = await readHeld(body, limit, lease, length);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      state.record.error = "body too large";
      return tooLarge(limit);
    }
    if (error instanceof BodyBudgetFull) {
      if (error.bytes > budget.limit) {
        state.record.error = "body too large";
        return beyondBudget(budget);
      }
      state.record.error = "body memory full";
      return busy();
    }
    if (state.refusal) return state.refusal; // the body timed out
    // The client hung up or sent a broken body: nobody may be reading this answer.
    state.record.aborted = true;
    state.record.error = "client body failed";
    return errorResponse("invalid_request", "The request body could not be read");
  }
  const path = state.upstreamPath ?? "";
  const verdict = typeof plan === "string"
    ? await checkForm(raw, plan, rules, path)
    : applyBodyRules(raw, rules, path, SPLICE_ROOM, plan);
  if ("type" in verdict) {
    state.record.error = `body rule: ${verdict.message}`;
    return errorResponse(verdict.type, verdict.message);
  }
  const sent = verdict.body;
  lease.resize(sent.byteLength);
  state.body = sent;
  state.record.bytes_in = sent.byteLength;
  return undefined;
}
