/**
 * The body stage: enforces the body cap and the JSON body rules, and publishes `body`: what
 * goes upstream (the client's stream, capped and watched; or the bytes the rules read, edited
 * in place) and what it says (model, output cap, stream).
 *
 * A body the rules read is read as it comes, so it must come without a content coding (the
 * bytes the rules checked, or rewrote, are the bytes that go, and no upstream decodes them to
 * another body); and it is held whole, so it is bounded twice: by its route's cap
 * (`limits.body`, else `DEFAULT_RULES_BODY_BYTES`), answered with 413; and by the gateway's
 * budget across all requests (`server.body_memory`), answered with 503 and `Retry-After`. The
 * bytes are scanned, not parsed (see `scan.ts`). Any other body streams through: a small one
 * of declared length is read whole (cheaper, and sent with the request head), one a key pool
 * may have to send twice is held, and a chunked one is watched for silence
 * (`server.timeouts.body`).
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import { DEFAULT_RULES_BODY_BYTES } from "../config/defaults.ts";
import type { Exchange } from "../exchange.ts";
import type { PlanVariables } from "../limits/limits.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import type { BodyBudget, BodyLease } from "./budget.ts";
import { BodyBudgetFull, BodyTooLarge, cappedBody, readHeld } from "./cap.ts";
import { type BodyClock, readBodyWithin, watchBody } from "./deadline.ts";
import type { BodyFacts } from "./facts.ts";
import type { BodyPlan, BodyRefusal } from "./rules.ts";

/** Client bodies of declared length up to this size are read whole before sending. */
export const INLINE_BODY_BYTES = 64 * 1024;
/** Bodies up to this size are held on a route with a key pool, so a refused one can be sent again. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

/** The request body as it goes upstream. */
export interface BodyView {
  /** What goes upstream: bytes, the client's stream (capped or watched), or null. */
  readonly send: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;
  /** True when `send` is the client's own stream of declared length (a fixed-length upload). */
  readonly declared: boolean;
  /** True when the rules read it as a body sent to an endpoint that generates. */
  readonly generates: boolean;
  /** What the JSON body says, when the body was read (empty otherwise). */
  readonly facts: BodyFacts;
  /** The answer a failed upload stands for (past the cap mid-stream, stalled), if any. */
  readonly refusal?: Response;
  /**
   * True for a WebSocket session, which has no body: what a body would say comes in its
   * frames, where the frame rules read it (see `src/realtime/`).
   */
  readonly framed?: boolean;
  /** Lets go of the bytes once they are sent (a long answer does not keep them alive). */
  release(): void;
}

/** What the body stage publishes. */
export type BodyVariables = { body: BodyView };

/** A route's body rules as the body stage applies them (see `route_rules.ts`). */
export interface RulesReader {
  /** What the rules do with bodies sent to `method path`; undefined: not read at all. */
  plan(method: string, path: string): BodyPlan | undefined;
  /**
   * Applies the rules to a body read whole (`plan` for JSON, or the content type of a form
   * read for its model): the refusal, or the bytes to send.
   */
  apply(
    raw: Uint8Array<ArrayBuffer>,
    plan: BodyPlan | string,
    path: string,
  ): Promise<BodyRefusal | { body: Uint8Array<ArrayBuffer> }>;
  /** What a JSON body says (model, output cap, stream). */
  facts(bytes: Uint8Array): BodyFacts;
}

/** What the body stage needs. */
export interface BodySettings {
  /** How the route's body rules read bodies (its field policy among them), if it has any. */
  rules?: RulesReader;
  /** The rules that also read `model`, for a client token whose claims name models. */
  modelRules?: RulesReader;
  /** Bytes held for body rules across every request of the gateway. */
  budget: BodyBudget;
  /** The longest silence while a body arrives, in ms (`server.timeouts.body`). */
  bodyTimeoutMs: number;
  /** Whether a key pool may send the request twice (its body is then held, when small). */
  replay: boolean;
}

const BODYLESS = new Set(["GET", "HEAD"]);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const FORM_TYPE = /^multipart\/form-data\s*;/i;
const NO_FACTS: BodyFacts = {};
/** Seconds a client is asked to wait when the body budget is full. */
const BUSY_RETRY = { "retry-after": "1" };

/** A request without a body. */
const NONE: BodyView = {
  send: null,
  declared: false,
  generates: false,
  facts: NO_FACTS,
  release() {},
};

/** One request's body: its view, and the clock its upload runs under. */
class RequestBody implements BodyView, BodyClock {
  send: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null = null;
  declared = false;
  generates = false;
  refusal?: Response;
  readonly bodyTimeoutMs: number;
  readonly #x: Exchange;
  #read?: Uint8Array;
  #factsOf?: (bytes: Uint8Array) => BodyFacts;
  #facts?: BodyFacts;

  constructor(x: Exchange, bodyTimeoutMs: number) {
    this.#x = x;
    this.bodyTimeoutMs = bodyTimeoutMs;
  }

  /** The body as bytes the rules read (and edited): it is what goes upstream. */
  read(bytes: Uint8Array<ArrayBuffer>, factsOf: (bytes: Uint8Array) => BodyFacts): void {
    this.send = bytes;
    this.#read = bytes;
    this.#factsOf = factsOf;
  }

  get facts(): BodyFacts {
    return this.#facts ??= this.#read ? this.#factsOf!(this.#read) : NO_FACTS;
  }

  bodyTimedOut(): void {
    const x = this.#x;
    x.aborted = true;
    // The server marks the answer `connection: close` itself: the rest of the body is unread.
    this.refusal = x.refuse("body_timeout", "The request body did not arrive in time");
  }

  release(): void {
    this.send = null;
    this.#read = undefined;
  }
}

/** True when a `Content-Encoding` names any coding but `identity`. */
function coded(encoding: string | null): boolean {
  if (encoding === null) return false;
  for (const coding of encoding.split(",")) {
    const name = coding.trim().toLowerCase();
    if (name !== "" && name !== "identity") return true;
  }
  return false;
}

function tooLarge(x: Exchange, cap: number): Response {
  return x.refuse("body_too_large", `The request body is larger than ${cap} bytes`);
}

function beyondBudget(x: Exchange, budget: BodyBudget): Response {
  return x.refuse(
    "body_too_large",
    `The request body is larger than the ${budget.limit} bytes this gateway holds for body rules`,
  );
}

function busy(x: Exchange): Response {
  return x.refuse(
    "body_memory_full",
    "The gateway is holding as many request bodies as it can; retry shortly",
    BUSY_RETRY,
  );
}

function unreadable(x: Exchange): Response {
  // The client hung up or sent a broken body: nobody may be reading this answer.
  x.aborted = true;
  return x.refuse("body_unreadable", "The request body could not be read");
}

/**
 * Compiles the body stage of a route.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { bodyStage } from "./body.ts";
 * import { BodyBudget } from "./budget.ts";
 * import { compileRouteRules } from "./route_rules.ts";
 *
 * const { rules } = compileRouteRules({
 *   body: { max_tokens: 1024 },
 *   usage: "openai",
 *   countTokens: false,
 *   queued: false,
 *   models: false,
 * });
 * const stage = bodyStage({
 *   rules,
 *   budget: new BodyBudget(),
 *   bodyTimeoutMs: 60_000,
 *   replay: false,
 * });
 *
 * const path = "/v1/chat/completions";
 * const request = new Request(`http://gateway/openai${path}`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: '{"model":"gpt-4o-mini","max_tokens":9000}',
 * });
 * // with what the stages before it published: where it goes, who sends it, its limits
 * const exchange = new Exchange(request, undefined, "req-1", "", `/openai${path}`, () => {});
 * const x = Object.assign(exchange, {
 *   upstream: { url: new URL(`https://api.openai.com${path}`), path },
 *   client: { id: "alice", authenticated: true },
 *   plan: {},
 * });
 * const sent = await stage(x, ({ body }) => Promise.resolve(new Response(body.send)));
 * assert.equal(await sent.text(), '{"model":"gpt-4o-mini","max_tokens":1024}');
 * ```
 */
export function bodyStage(
  settings: BodySettings,
): Stage<UpstreamVariables & PlanVariables & ClientVariables, BodyVariables> {
  const { budget, bodyTimeoutMs, replay } = settings;
  const withBody: Stage<UpstreamVariables & PlanVariables & ClientVariables, BodyVariables> =
    async (x, next) => {
      const request = x.request;
      const cap = x.plan.body;
      const declared = Number(request.headers.get("content-length") ?? NaN);
      if (cap !== undefined && declared > cap) return tooLarge(x, cap);
      const body = new RequestBody(x, bodyTimeoutMs);
      // An empty body carries no fields (a POST that only names its path, like a cancel).
      const rules = declared === 0
        ? undefined
        : x.client.grant?.models
        ? settings.modelRules
        : settings.rules;
      const type = request.headers.get("content-type") ?? "";
      const json = JSON_TYPE.test(type);
      const plan = rules?.plan(request.method, x.upstream.path);
      if (rules && plan && (json || plan.other !== "pass")) {
        // A form is read only for its model; any other body the rules cannot read is refused.
        const form = !json && plan.other === "form" && FORM_TYPE.test(type);
        if (!json && !form) {
          const what = plan.other === "form" ? "JSON or multipart form bodies" : "JSON bodies";
          return x.refuse("body_refused", `This route takes ${what} only`);
        }
        // The rules read the bytes as they come; what they send on must not be labelled with a
        // coding it does not have, nor could an upstream decode the same bytes to another body.
        if (coded(request.headers.get("content-encoding"))) {
          return x.refuse(
            "body_coding",
            "This route reads request bodies: send them without a Content-Encoding",
          );
        }
        const limit = cap ?? DEFAULT_RULES_BODY_BYTES;
        if (declared > limit) return tooLarge(x, limit);
        const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
        if (length !== undefined && length > budget.limit) return beyondBudget(x, budget);
        // Reserved before a byte is read when the length is known; else as the bytes come.
        const lease = budget.lease(length ?? 0);
        if (!lease) return busy(x);
        body.generates = plan.generates;
        try {
          const refused = await readForRules(
            x,
            body,
            watchBody(request.body!, body),
            rules,
            { limit, budget, lease, length },
            form ? type : plan,
          );
          return refused ?? await next({ body });
        } finally {
          // Sent by now (or waiting in a queue, which holds the bytes itself).
          lease.release();
        }
      }
      try {
        if (cap !== undefined && !Number.isFinite(declared)) {
          body.send = cappedBody(watchBody(request.body!, body), cap, {
            onBytes: (bytes) => x.bytesIn = bytes,
            onExceeded: () => body.refusal = tooLarge(x, cap),
          });
          return await next({ body });
        }
        // The server holds a body to its declared length, which is within the cap.
        if (cap !== undefined && declared !== 0) x.bytesIn = declared;
        await own(x, body, declared, replay);
      } catch {
        return body.refusal ?? unreadable(x);
      }
      return next({ body });
    };
  return (x, next) => {
    const request = x.request;
    if (BODYLESS.has(request.method)) return next({ body: NONE });
    const length = request.headers.get("content-length");
    // `request.body` is asked for only where the head does not say whether there is one: it
    // turns the body into a JavaScript stream, and a small body is read whole faster without.
    const none = length === null && !request.headers.has("transfer-encoding") && !request.body;
    if (none || length === "0") {
      // No body where the rules need one (a model to check, a field the policy reads): refused
      // rather than sent on unread.
      const rules = x.client.grant?.models ? settings.modelRules : settings.rules;
      if (rules?.plan(request.method, x.upstream.path)?.needsBody) {
        return Promise.resolve(
          x.refuse("body_missing", "This endpoint takes a JSON body, and the request has none"),
        );
      }
      if (none) return next({ body: NONE });
    }
    return withBody(x, next);
  };
}

/**
 * The client's own body, unread by rules: a small one of declared length (or one a key pool
 * may replay) as bytes, read in one go, cheaper than a stream and sent with the request head;
 * a large one of declared length as the client's stream, sent natively with its length (a
 * stream in between would halve upload speed; the route's timeout bounds its stall); a chunked
 * one watched for silence.
 */
async function own(
  x: Exchange,
  body: RequestBody,
  declared: number,
  replay: boolean,
): Promise<void> {
  const request = x.request;
  if (declared <= INLINE_BODY_BYTES || (replay && declared <= MAX_REPLAY_BYTES)) {
    body.send = await readBodyWithin(request, body);
  } else if (Number.isFinite(declared)) {
    body.send = request.body;
    body.declared = true;
  } else {
    body.send = watchBody(request.body!, body);
  }
}

/** How much a body read for the rules may hold. */
interface Holding {
  limit: number;
  budget: BodyBudget;
  lease: BodyLease;
  length: number | undefined;
}

/**
 * Reads a body for the rules and applies them (`plan` for a JSON body, or the form's content
 * type for a form read for its model); the bytes to send go into `body`, or the refusal is
 * returned.
 */
async function readForRules(
  x: Exchange & UpstreamVariables,
  body: RequestBody,
  stream: ReadableStream<Uint8Array>,
  rules: RulesReader,
  holding: Holding,
  plan: BodyPlan | string,
): Promise<Response | undefined> {
  const { limit, budget, lease, length } = holding;
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = await readHeld(stream, limit, lease, length);
  } catch (error) {
    if (error instanceof BodyTooLarge) return tooLarge(x, limit);
    if (error instanceof BodyBudgetFull) {
      return error.bytes > budget.limit ? beyondBudget(x, budget) : busy(x);
    }
    return body.refusal ?? unreadable(x);
  }
  const path = x.upstream.path;
  const verdict = await rules.apply(raw, plan, path);
  if ("type" in verdict) {
    return x.refuse("body_refused", verdict.message, undefined, verdict.type, verdict.message);
  }
  const sent = verdict.body;
  lease.resize(sent.byteLength);
  body.read(sent, rules.facts);
  x.bytesIn = sent.byteLength;
  return undefined;
}
