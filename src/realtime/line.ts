/**
 * How a WebSocket upgrade goes through a route's line. An upgrade is a GET through the same
 * stages as any request (resolve, auth, allow, limits: it counts in `requests` once and holds
 * a `concurrent` slot while it is open), and then, instead of the body stage and the forward
 * handler:
 *
 * 1. the socket stage: the handshake is checked; the model the OpenAI query names is checked
 *    against the route's models (403 before any socket is opened); what the stages after it
 *    read of a body is published (the model, and that the rest comes in frames);
 * 2. the queue, budget and key stages, as for any request (a client token's claims, a model
 *    with no price on a dollar route);
 * 3. the socket handler: a budget already spent is 429; the upstream socket is opened with
 *    the key in a header (its refusal is the client's answer); the client's `101` names the
 *    subprotocol the upstream chose; the session relays until either side closes, and the
 *    request ends then: one log line, slots given back.
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import type { BodyVariables, BodyView } from "../body/body.ts";
import type { BudgetSettings } from "../budget/budget.ts";
import { sessionBudget } from "../budget/session.ts";
import type { SocketProtocol, UsageFormat } from "../config/presets/preset.ts";
import { DEFAULT_SESSION_MS } from "../config/defaults.ts";
import type { Exchange } from "../exchange.ts";
import type { KeyInjector } from "../keys/inject.ts";
import type { KeyVariables } from "../keys/select.ts";
import type { PlanVariables } from "../limits/limits.ts";
import { upstreamHeaders } from "../proxy/headers.ts";
import { needlesOf, redactBytes, StreamRedactor } from "../proxy/redact.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Handler, Stage } from "../stage.ts";
import { acceptorFor } from "./accept.ts";
import type { SessionBoard } from "./board.ts";
import type { SocketEndpoints } from "./endpoints.ts";
import {
  answeredProtocol,
  forwardedProtocols,
  handshakeProblem,
  isWebSocketUpgrade,
  offeredProtocols,
} from "../websocket_handshake.ts";
import { SessionMeter } from "./meter.ts";
import type { FrameContext, FrameRules } from "./rules.ts";
import { Session } from "./session.ts";
import { openUpstream, type UpstreamOpener } from "./upstream.ts";

/** What the socket stage learned about a session before it opens. */
export interface SocketPlan {
  /** The protocol the endpoint speaks. */
  readonly protocol: SocketProtocol;
  /** The subprotocols the client offered. */
  readonly offered: readonly string[];
  /** OpenAI's beta shapes (`OpenAI-Beta: realtime=v1`, or its subprotocol). */
  readonly beta: boolean;
  /** The model the upgrade names (OpenAI's `?model=`), if any. */
  readonly model?: string;
}

/** What the socket stage publishes. */
export type SocketVariables = { socket: SocketPlan };

/** The largest frame a client may send when the route sets no `limits.body`. */
export const DEFAULT_FRAME_BYTES = 4 * 1024 * 1024;

/** What the socket stage needs of a route. */
export interface SocketStageSettings {
  /** The route's WebSocket endpoints. */
  readonly endpoints: SocketEndpoints;
  /** The route's frame rules, when it has any. */
  readonly rules?: FrameRules;
  /** Whether the route counts tokens or dollars (a session must then name its model). */
  readonly budgeted: boolean;
}

/**
 * Sends WebSocket upgrades to an endpoint of the route down `line` (the socket stage and the
 * rest); every other request goes on. An upgrade the runtime cannot accept is 503, a
 * malformed handshake 400, before anything else is done for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { compileRealtime } from "./endpoints.ts";
 * import { socketFork } from "./line.ts";
 * import { compileAllow } from "../rules/allow_list.ts";
 *
 * const { sockets } = compileRealtime(
 *   { sockets: { "GET /v1/realtime": "openai" } },
 *   compileAllow(["GET /v1/realtime"]),
 * );
 * const fork = socketFork(sockets!, () => Promise.resolve(new Response("a session")));
 * const upstream = { url: new URL("https://api.openai.com/v1/realtime"), path: "/v1/realtime" };
 * const request = new Request("http://gateway/openai/v1/realtime", {
 *   headers: {
 *     upgrade: "websocket",
 *     connection: "Upgrade",
 *     "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "sec-websocket-version": "13",
 *   },
 * });
 * const x = Object.assign(
 *   new Exchange(request, undefined, "req-1", "", "/openai/v1/realtime", () => {}),
 *   { upstream },
 * );
 * const answer = await fork(x, () => Promise.resolve(new Response("plain HTTP")));
 * assert.equal(await answer.text(), "a session");
 * ```
 */
export function socketFork(
  endpoints: SocketEndpoints,
  line: (x: Exchange) => Promise<Response>,
  upgrades = true,
): Stage<UpstreamVariables> {
  return (x, next) => {
    if (!isWebSocketUpgrade(x.request.headers) || !endpoints.at(x.upstream.path)) {
      return next(undefined);
    }
    const problem = handshakeProblem(x.request);
    if (problem) return Promise.resolve(x.refuse("bad_upgrade", problem));
    if (!upgrades || !acceptorFor(x.env)) {
      return Promise.resolve(x.refuse(
        "socket_unavailable",
        upgrades
          ? "This server cannot accept WebSocket upgrades: see keyward's docs/realtime.md"
          : "This server was started without WebSocket routes: restart it to serve them",
      ));
    }
    return line(x);
  };
}

/**
 * The socket stage: checks the model an OpenAI upgrade names and publishes the session's
 * plan, and a body view for the stages after it (no body: the model, and that the rest of
 * what a body would say comes in frames).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { compileRealtime } from "./endpoints.ts";
 * import { socketStage } from "./line.ts";
 * import { FrameRules } from "./rules.ts";
 * import { compileAllow } from "../rules/allow_list.ts";
 *
 * const { sockets } = compileRealtime(
 *   { sockets: { "GET /v1/realtime": "openai" } },
 *   compileAllow(["GET /v1/realtime"]),
 * );
 * const stage = socketStage({
 *   endpoints: sockets!,
 *   rules: new FrameRules({ models: ["gpt-realtime"] }),
 *   budgeted: false,
 * });
 * const open = (model: string) => {
 *   const path = "/v1/realtime";
 *   const request = new Request(`http://gateway/openai${path}?model=${model}`);
 *   const upstream = { url: new URL(`https://api.openai.com${path}?model=${model}`), path };
 *   const x = Object.assign(
 *     new Exchange(request, undefined, "req-1", "", `/openai${path}`, () => {}),
 *     { upstream, client: { id: "alice", authenticated: true }, plan: {} },
 *   );
 *   return stage(x, ({ socket }) => Promise.resolve(new Response(socket.model)));
 * };
 * assert.equal(await (await open("gpt-realtime")).text(), "gpt-realtime");
 * assert.equal((await open("gpt-4o-realtime-preview")).status, 403); // before any socket opens
 * ```
 */
export function socketStage(
  settings: SocketStageSettings,
): Stage<UpstreamVariables & ClientVariables & PlanVariables, BodyVariables & SocketVariables> {
  const { endpoints, rules, budgeted } = settings;
  return (x, next) => {
    const protocol = endpoints.at(x.upstream.path)!;
    const headers = x.request.headers;
    const offered = offeredProtocols(headers);
    const beta = protocol === "openai" &&
      (/realtime=v1/.test(headers.get("openai-beta") ?? "") ||
        offered.includes("openai-beta.realtime-v1"));
    let model: string | undefined;
    if (protocol === "openai") {
      model = x.upstream.url.searchParams.get("model") ?? undefined;
      const granted = x.client.grant?.models;
      if (model === undefined) {
        // Without a model (a transcription session, a call's control socket) the session
        // cannot be held to a model list, a token's claims or a price.
        if (rules?.hasModels || granted || budgeted) {
          return Promise.resolve(x.refuse(
            "body_refused",
            "A realtime session on this route must name its model (?model=)",
          ));
        }
      } else if (rules || granted) {
        const context: FrameContext = { protocol, beta, granted };
        const refused = rules
          ? rules.checkModel(model, context)
          : granted!.has(model)
          ? undefined
          : { message: `The token does not allow ${model}` };
        if (refused) {
          return Promise.resolve(
            x.refuse("body_refused", refused.message, undefined, "forbidden", refused.message),
          );
        }
      }
    }
    const body: BodyView = {
      send: null,
      declared: false,
      generates: false,
      facts: model === undefined ? {} : { model },
      framed: true,
      release() {},
    };
    return next({ body, socket: { protocol, offered, beta, model } });
  };
}

/** What the socket handler needs of a route. */
export interface SocketHandlerSettings {
  /** Request headers never forwarded on the route. */
  readonly dropHeaders: ReadonlySet<string>;
  /** Extra headers set on every upstream request. */
  readonly headers: readonly (readonly [string, string])[];
  /** Puts the key on the upstream handshake. */
  readonly inject: KeyInjector;
  /** The route's `limits.timeout` in ms: the handshake's timeout and the idle limit. */
  readonly timeoutMs: number;
  /** The route's frame rules, when it has any. */
  readonly rules?: FrameRules;
  /** How the upstream reports usage (the session is metered when it does). */
  readonly usage?: UsageFormat;
  /** The route's budgets, when it has any (the budget stage's settings). */
  readonly budget?: BudgetSettings;
  /** The most output one response may have (the clamp), for a cut response's estimate. */
  readonly outputMax: number;
  /** The gateway's open sessions. */
  readonly board: SessionBoard;
  /** Opens the upstream socket (npm `ws` by default). */
  readonly open?: UpstreamOpener;
}

/** What the socket handler needs from the stages before it. */
export type SocketNeeds =
  & UpstreamVariables
  & ClientVariables
  & PlanVariables
  & BodyVariables
  & KeyVariables
  & SocketVariables;

const MESSAGES = {
  upstream_timeout: "The upstream did not accept the socket in time",
  upstream_unreachable: "The upstream could not be reached",
} as const;

/**
 * The socket handler, the end of an upgrade's line: opens the upstream socket, accepts the
 * client's, and runs the session between them (see `session.ts`). The request is held until
 * the session ends. An upstream that refuses the handshake with an HTTP answer gives the
 * client that answer (the key redacted from it); one that cannot be reached is 502.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { compileInjector } from "../keys/inject.ts";
 * import { Secret } from "../keys/secret.ts";
 * import { requestDropSet } from "../proxy/headers.ts";
 * import { SessionBoard } from "./board.ts";
 * import { socketHandler } from "./line.ts";
 *
 * // a provider that refuses the key it is sent, echoing it
 * const open = (_url: string, init: { headers: Record<string, string> }) =>
 *   Promise.resolve({
 *     outcome: "upstream_unreachable" as const,
 *     status: 401,
 *     contentType: "application/json",
 *     body: new TextEncoder().encode(`{"error":"bad key ${init.headers.authorization}"}`),
 *   });
 * const handler = socketHandler({
 *   dropHeaders: requestDropSet([]),
 *   headers: [],
 *   inject: compileInjector({ header: "authorization", format: "Bearer {key}" }),
 *   timeoutMs: 10_000,
 *   outputMax: 4096,
 *   board: new SessionBoard(),
 *   open,
 * });
 * const path = "/v1/realtime";
 * const request = new Request(`http://gateway/openai${path}?model=gpt-realtime`);
 * const x = Object.assign(
 *   new Exchange(request, undefined, "req-1", "", `/openai${path}`, () => {}),
 *   {
 *     upstream: { url: new URL(`https://api.openai.com${path}?model=gpt-realtime`), path },
 *     client: { id: "alice", authenticated: true },
 *     plan: {},
 *     body: { send: null, declared: false, generates: false, facts: {}, release() {} },
 *     key: { origin: "env:OPENAI_API_KEY", secret: new Secret("sk-live") },
 *     socket: { protocol: "openai" as const, offered: [], beta: false },
 *   },
 * );
 * const answer = await handler(x);
 * assert.equal(answer.status, 401);
 * assert.equal(await answer.text(), '{"error":"bad key Bearer [redacted]"}');
 * ```
 */
export function socketHandler(settings: SocketHandlerSettings): Handler<SocketNeeds> {
  const open = settings.open ?? openUpstream;
  return async (x) => {
    const plan = x.socket;
    const budget = settings.budget ? sessionBudget(settings.budget, x) : undefined;
    if (budget) {
      const refused = await budget.open();
      if (refused) return refused;
    }
    const url = new URL(x.upstream.url);
    url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
    const headers = upstreamHeaders(x.request.headers, settings.dropHeaders);
    for (const [name, value] of settings.headers) headers[name] = value;
    const key = x.key;
    if (key) settings.inject(headers, url, key.secret);
    const needles = key ? needlesOf(key.secret) : undefined;
    const maxFrame = x.plan.body ?? DEFAULT_FRAME_BYTES;
    const sent = performance.now();
    const upstream = await open(url.href, {
      headers,
      protocols: forwardedProtocols(plan.offered),
      timeoutMs: settings.timeoutMs,
      // What the upstream may send in one frame: what the gateway relays as it comes.
      maxPayload: 64 * 1024 * 1024,
    });
    x.ttfbMs = Math.round((performance.now() - sent) * 10) / 10;
    if (!("send" in upstream)) {
      if (upstream.status !== undefined && upstream.status >= 300) {
        // The provider refused the handshake: its answer, redacted, is the client's. A cut
        // answer may end in the start of a key, which the redactor holds back.
        let body = upstream.body;
        if (needles && body) {
          body = upstream.cut
            ? new StreamRedactor(needles).push(body) as Uint8Array<ArrayBuffer>
            : redactBytes(body, needles);
        }
        const answer: Record<string, string> = { ...x.headers };
        if (upstream.contentType) answer["content-type"] = upstream.contentType;
        const refusal = body as Uint8Array<ArrayBuffer> | undefined;
        return x.own(new Response(refusal ?? null, { status: upstream.status, headers: answer }));
      }
      const outcome = upstream.outcome;
      return x.refuse(outcome, MESSAGES[outcome], undefined, undefined, upstream.cause);
    }
    const acceptor = acceptorFor(x.env)!;
    let accepted;
    try {
      accepted = acceptor.accept(
        x.request,
        answeredProtocol(upstream.protocol, plan.offered),
        x.headers,
      );
    } catch (error) {
      upstream.close(1000, "");
      return x.refuse(
        "bad_upgrade",
        "The WebSocket handshake failed",
        undefined,
        undefined,
        (
          error as Error
        ).name,
      );
    }
    x.hold();
    const context: FrameContext = {
      protocol: plan.protocol,
      beta: plan.beta,
      model: plan.model,
      granted: x.client.grant?.models,
      priced: budget ? (model) => budget.priced(model) : undefined,
    };
    const rules = settings.rules;
    const board = settings.board;
    const session: Session = new Session(
      {
        protocol: plan.protocol,
        context,
        rules,
        meter: settings.usage ? new SessionMeter(plan.protocol, settings.outputMax) : undefined,
        charger: budget,
        needles,
        maxFrame,
        sessionMs: x.plan.session ?? DEFAULT_SESSION_MS,
        idleMs: settings.timeoutMs,
        clampSession: plan.protocol === "openai" && rules?.max !== undefined &&
          x.upstream.url.searchParams.get("intent") !== "transcription",
        onEnd: (end) => {
          board.delete(session);
          // What Bun and Node got back is a stand-in: their servers answered the handshake.
          x.status = 101;
          x.bytesIn = end.bytesIn;
          x.bytesOut = end.bytesOut;
          if (end.charge) x.charge = end.charge;
          if (end.outcome) x.note(end.outcome, end.detail);
          x.session = end.record;
          x.release();
        },
      },
      upstream,
      accepted.link,
    );
    board.add(session);
    session.start();
    return x.own(accepted.response);
  };
}
