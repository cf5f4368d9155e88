/**
 * The forward handler, the last step of every route: builds the upstream request (the
 * client's headers without its credentials, the route's own headers, the key), composes what
 * the answer passes through (the key redactor on the bodies an upstream may echo it in, the
 * usage meter on a route that reports usage) and hands it to the transport. Through a key
 * pool, a request refused for its key is sent once more on another.
 *
 * Which bodies are scanned for the key: redirects and errors (3xx, 4xx, 5xx) on every route,
 * and every body on a route whose key travels in the query string (upstreams echo URLs). A
 * plain 2xx answer on a route whose key travels in a header is not scanned: it is the hot
 * path. Every response header of every status is checked.
 *
 * When the answer has ended, the usage to charge (reported, or estimated for a cut stream) is
 * put on the exchange's billing channel, `charge`, for the stages that settle budgets.
 *
 * @module
 */
import type { BodyVariables, BodyView } from "../body/body.ts";
import type { Exchange } from "../exchange.ts";
import type { KeyInjector } from "../keys/inject.ts";
import { sendWithPool } from "../keys/pool.ts";
import type { KeyVariables } from "../keys/select.ts";
import type { KeyEntry, KeySource } from "../keys/source.ts";
import { decodableAcceptEncoding } from "../proxy/coding.ts";
import type { Delivery } from "../proxy/flight.ts";
import { upstreamHeaders } from "../proxy/headers.ts";
import { needlesOf, StreamRedactor } from "../proxy/redact.ts";
import { send, UpstreamFailure } from "../proxy/send.ts";
import type { ErrorShape } from "../proxy/sse.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Handler } from "../stage.ts";
import type { UsageFormat } from "../config/presets/preset.ts";
import { UsageMeter } from "../usage/meter.ts";

/** What the forward handler needs of a route. */
export interface ForwardSettings {
  /** Request headers never forwarded on the route. */
  readonly dropHeaders: ReadonlySet<string>;
  /** Extra headers set on every upstream request. */
  readonly headers: readonly (readonly [string, string])[];
  /** Puts a key on the upstream request. */
  readonly inject: KeyInjector;
  /** True when the key travels in the query string (every answer is then scanned for it). */
  readonly queryKey: boolean;
  /** How the upstream reports usage, when the route meters it. */
  readonly usage?: UsageFormat;
  /** How long the upstream may stay silent, in ms. */
  readonly timeoutMs: number;
  /** The route's key pool, when it has several keys. */
  readonly pool?: KeySource;
  /** Whether usage is split into kinds (a route that prices it). */
  readonly kinds?: boolean;
  /** The error shape of the last event of an event stream cut short (keyward's by default). */
  readonly errorShape?: ErrorShape;
}

/** What the forward handler needs from the stages before it. */
export type ForwardNeeds = UpstreamVariables & BodyVariables & KeyVariables;

const MESSAGES = {
  upstream_timeout: "The upstream did not answer in time",
  // The client is gone; this answer is never read.
  client_closed: "The client closed the request",
  upstream_unreachable: "The upstream could not be reached",
} as const;

/**
 * Compiles a route's forward handler over `fetch` (the runtime's when left out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { compileInjector } from "../keys/inject.ts";
 * import { Secret } from "../keys/secret.ts";
 * import { requestDropSet } from "../proxy/headers.ts";
 * import { forwardHandler } from "./forward.ts";
 *
 * // a provider that echoes the key it was sent in its error, as some do
 * const provider: typeof fetch = (_url, init) => {
 *   const sent = new Headers(init?.headers).get("authorization");
 *   const error = `Incorrect API key: ${sent}`;
 *   return Promise.resolve(Response.json({ error }, { status: 401 }));
 * };
 * const forward = forwardHandler({
 *   dropHeaders: requestDropSet([]),
 *   headers: [],
 *   inject: compileInjector({ header: "authorization", format: "Bearer {key}" }),
 *   queryKey: false,
 *   timeoutMs: 60_000,
 * }, provider);
 *
 * const request = new Request("http://gateway/openai/v1/models");
 * const exchange = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 * // with what the stages before it published: where it goes, its body, its key
 * const x = Object.assign(exchange, {
 *   upstream: { url: new URL("https://api.openai.com/v1/models"), path: "/v1/models" },
 *   body: { send: null, declared: false, generates: false, facts: {}, release() {} },
 *   key: { origin: "env:OPENAI_API_KEY", secret: new Secret("sk-live-123") },
 * });
 * const answer = await forward(x);
 * assert.equal(answer.status, 401);
 * assert.deepEqual(await answer.json(), { error: "Incorrect API key: Bearer [redacted]" });
 * ```
 */
export function forwardHandler(
  route: ForwardSettings,
  fetch?: typeof globalThis.fetch,
): Handler<ForwardNeeds> {
  const pool = route.pool;
  return async (x) => {
    const key = x.key;
    try {
      if (pool && key && key.origin !== "hook") {
        const replayable = !(x.body.send instanceof ReadableStream);
        return await sendWithPool(
          pool,
          key,
          (key) => attempt(x, route, key, fetch),
          replayable,
          () => x.retried = true,
        );
      }
      return await attempt(x, route, key, fetch);
    } finally {
      x.body.release();
    }
  };
}

/** Sends the request once, with `key`. */
async function attempt(
  x: Exchange & ForwardNeeds,
  route: ForwardSettings,
  key: KeyEntry | undefined,
  fetch: typeof globalThis.fetch | undefined,
): Promise<Response> {
  const request = x.request;
  // A key in the query goes on a copy: the exchange's URL is what hooks and the log see.
  const url = route.queryKey ? new URL(x.upstream.url) : x.upstream.url;
  const headers = upstreamHeaders(request.headers, route.dropHeaders);
  for (const [name, value] of route.headers) headers[name] = value;
  // An explicit accept-encoding stops fetch from decompressing: bytes pass through as sent.
  // Routes that read usage need plain bodies, or a client could hide its tokens with gzip.
  // A route with a key may have to scan an answer (see coding.ts): the upstream is offered
  // only the codings the gateway can decode.
  headers["accept-encoding"] = route.usage
    ? "identity"
    : key
    ? decodableAcceptEncoding(request.headers.get("accept-encoding"))
    : (request.headers.get("accept-encoding") ?? "identity");
  if (key) route.inject(headers, url, key.secret);
  const body = x.body;
  // The client's own stream keeps its declared length: the upstream gets a fixed-length upload
  // rather than a chunked one (Deno's client streams those far faster). Bytes get their
  // length from the sender.
  if (!body.declared) delete headers["content-length"];
  const needles = key ? needlesOf(key.secret) : undefined;
  const ending = new Ending(x, route.usage, body.send, route.kinds === true);
  x.hold();
  try {
    const sent = await send(url, {
      method: request.method,
      headers,
      body: body.send,
      client: request,
      timeoutMs: route.timeoutMs,
      fetch,
      completed: completedOf(x.env),
      extraHeaders: x.headers,
      needles,
      step: needles
        ? (status) => status >= 300 || route.queryKey ? new StreamRedactor(needles) : undefined
        : undefined,
      tap: route.usage ? (status, type) => ending.tap(status, type) : undefined,
      errorShape: route.errorShape,
      done: (delivery) => ending.done(delivery),
    });
    x.ttfbMs = sent.ttfbMs;
    return x.own(sent.response);
  } catch (error) {
    x.release();
    // A stage that cut the upload (a body past its cap, a stalled body) has the answer ready.
    if (body.refusal) return body.refusal;
    if (!(error instanceof UpstreamFailure)) throw error;
    if (error.aborted) {
      x.aborted = true;
      // The client hung up before the answer: the upstream may have read the prompt, so the
      // request is charged its input estimate (see UsageMeter.charge), or hanging up early
      // would be free.
      if (route.usage) ending.inputOnly();
    }
    const outcome = error.outcome as keyof typeof MESSAGES;
    return x.refuse(
      outcome,
      MESSAGES[outcome],
      undefined,
      undefined,
      outcome === "upstream_unreachable" ? (error.cause as Error)?.name : undefined,
    );
  }
}

/** One attempt's answer as it ends: its bytes, its outcome and the usage to charge. */
class Ending {
  readonly #x: Exchange;
  readonly #format?: UsageFormat;
  /** The bytes sent, when the body went as bytes (for an estimate of the input). */
  readonly #sent?: number;
  readonly #kinds: boolean;
  #meter?: UsageMeter;
  #billable = false;

  constructor(
    x: Exchange,
    format: UsageFormat | undefined,
    sent: BodyView["send"],
    kinds: boolean,
  ) {
    this.#x = x;
    this.#format = format;
    this.#kinds = kinds;
    if (sent instanceof Uint8Array) this.#sent = sent.byteLength;
  }

  /**
   * The request body's size in bytes, for a usage estimate: what the body stage counted,
   * else the bytes sent, else the declared length.
   */
  #inputBytes(): number {
    const x = this.#x;
    return x.bytesIn ?? this.#sent ?? (Number(x.request.headers.get("content-length")) || 0);
  }

  /** The meter for an answer with this status and content type. */
  tap(status: number, contentType: string | null): UsageMeter {
    this.#billable = status < 300;
    return this.#meter = new UsageMeter(
      this.#format!,
      contentType,
      this.#kinds ? { kinds: true } : undefined,
    );
  }

  /** The answer's body ended. */
  done(delivery: Delivery): void {
    const x = this.#x;
    if (!delivery.discarded) {
      x.bytesOut = delivery.bytes;
      if (delivery.aborted) x.aborted = true;
      if (delivery.outcome) x.note(delivery.outcome);
      const charge = this.#meter?.charge(
        this.#billable ? this.#inputBytes() : undefined,
        delivery.complete,
      );
      if (charge) x.charge = charge;
    }
    x.release();
  }

  /** No answer came: the request is charged its input alone (an estimate). */
  inputOnly(): void {
    const input = this.#inputBytes();
    this.#x.charge = { usage: { input, output: 0, total: input }, estimated: true };
  }
}

/**
 * The `completed` promise of `Deno.serve`'s handler info, when `env` (what Hono passes as
 * `c.env`) is that info.
 */
export function completedOf(env: unknown): Promise<void> | undefined {
  const completed = (env as { completed?: Promise<void> } | undefined)?.completed;
  return completed instanceof Promise ? completed : undefined;
}
