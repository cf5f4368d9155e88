/**
 * The transport: sends one request upstream and streams the answer back, as a `fetch` would,
 * over an injectable `fetch` (keyward's HTTP/1.1 client by default on the server). Bodies
 * stream both ways without buffering; redirects are not followed; the upstream request is
 * aborted when the client hangs up or the upstream stays silent past the timeout, until the
 * last byte of every body.
 *
 * It knows nothing of routes, clients or limits. What it is told:
 * - the request as it goes (URL, method, headers with the key already in them, body);
 * - headers to add to the answer, and key spellings to redact from the answer's headers;
 * - once the status is known, a step every body chunk passes through (a key redactor: such a
 *   body is decoded from gzip first, and cut past {@linkcode MAX_SCAN_BYTES} when it is a
 *   redirect or an error) and a tap that reads a copy of it (a usage meter);
 * - whom to tell, once, how the body ended ({@linkcode Delivery}).
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import { errorResponse } from "../errors.ts";
import type { OutcomeCode } from "../outcome.ts";
import { decoderFor, gunzipped } from "./coding.ts";
import { type ChunkStep, type Delivery, Flight, type Tap, UpstreamTimeout } from "./flight.ts";
import { addHeaders, clientHeaders, type HeaderRecord } from "./headers.ts";
import { wholeBody } from "./http1/client.ts";
import type { Needles } from "./redact.ts";
import type { ErrorShape } from "./sse.ts";

/**
 * Redirect and error bodies are scanned up to this size (decoded). Past it the body is cut:
 * nothing beyond the cap is sent, the client's response ends in an error rather than a clean
 * end (so a truncated body is never taken for a whole one), the upstream connection is closed
 * and the delivery says so. No provider's error runs this long; an upstream that sends more is
 * broken or hostile, and a compressed one could expand without end.
 */
export const MAX_SCAN_BYTES = 1024 * 1024;
/**
 * Bodies of known length up to this size, that no step or tap reads, are passed through
 * natively when the server can say when they were delivered. Their timeout then counts from
 * the response headers to the end (a body this small does not run long while bytes flow).
 */
export const MAX_PASS_THROUGH_BYTES = 1024 * 1024;

/** What to send, and what to do with the answer. */
export interface SendOptions {
  /** The request method. */
  method: string;
  /** The upstream request's headers, lower-case names, the key among them. */
  headers: HeaderRecord;
  /** The body to send, or null. */
  body: BodyInit | null;
  /**
   * The client's request: when it hangs up before the answer, the upstream call is aborted
   * (its signal is read only once the upstream is slow).
   */
  client: Request;
  /** How long the upstream may stay silent, before its first byte and between bytes. */
  timeoutMs: number;
  /** The fetch that reaches the upstream (the runtime's by default). */
  fetch?: typeof fetch;
  /**
   * Settles when the response has been delivered to the client (`Deno.serve`'s
   * `info.completed`); when given, small bodies skip the JavaScript relay.
   */
  completed?: Promise<void>;
  /** Headers the answer carries besides the upstream's (request id, CORS, rate limits). */
  extraHeaders?: HeaderRecord;
  /** Spellings of the key to redact from the answer's header values. */
  needles?: Needles;
  /** The step the body of an answer with this status passes through, if any. */
  step?: (status: number) => ChunkStep | undefined;
  /** The tap that reads the body of an answer with this status and type, if any. */
  tap?: (status: number, contentType: string | null) => Tap | undefined;
  /**
   * The error shape of the last event on an event stream cut short (the upstream broke it off
   * or went silent): the route's provider's, so its SDK reads it; keyward's own by default.
   */
  errorShape?: ErrorShape;
  /** Hears once how the answer's body ended; never called when `send` throws. */
  done(delivery: Delivery): void;
}

/** Why no answer came: the outcome to record, and whether the client had hung up. */
export class UpstreamFailure extends Error {
  /** The outcome: `upstream_timeout`, `client_closed` or `upstream_unreachable`. */
  readonly outcome: OutcomeCode;
  /** True when the client hung up before the answer came. */
  readonly aborted: boolean;

  /** A failure with its outcome; `cause` is the error the fetch raised. */
  constructor(outcome: OutcomeCode, cause: unknown) {
    super(`Upstream call failed: ${outcome}`, { cause });
    this.name = "UpstreamFailure";
    this.outcome = outcome;
    this.aborted = outcome === "client_closed";
  }
}

/** An answer and when its head came. */
export interface Sent {
  /** The answer for the client. */
  response: Response;
  /** Milliseconds from sending to the upstream's response headers. */
  ttfbMs: number;
}

/**
 * Sends a request upstream and returns the answer for the client.
 *
 * @throws {UpstreamFailure} when no answer came (timeout, hang-up, unreachable)
 * @example
 * ```ts
 * import { send } from "./send.ts";
 *
 * const upstream = (_url: URL | RequestInfo, _init?: RequestInit) =>
 *   Promise.resolve(new Response("hello", { headers: { "content-type": "text/plain" } }));
 * let delivered = false;
 * const { response } = await send(new URL("https://api.example/v1/models"), {
 *   method: "GET",
 *   headers: { authorization: "Bearer sk-1" },
 *   body: null,
 *   client: new Request("http://gateway/openai/v1/models"),
 *   timeoutMs: 1000,
 *   fetch: upstream as typeof fetch,
 *   done: (delivery) => delivered = delivery.complete,
 * });
 * if ((await response.text()) !== "hello" || !delivered) throw new Error("not relayed");
 * ```
 */
export async function send(url: URL, options: SendOptions): Promise<Sent> {
  const { method, client } = options;
  const flight = new Flight(client, options.timeoutMs, options.done);
  let upstream: Response;
  try {
    upstream = await (options.fetch ?? fetch)(url, {
      method,
      headers: options.headers,
      body: options.body,
      redirect: "manual",
      signal: flight.signal,
      // @ts-ignore: Deno and Node need duplex for streaming request bodies
      duplex: "half",
    });
  } catch (error) {
    flight.failed();
    const reason = flight.signal.reason;
    throw new UpstreamFailure(
      reason instanceof UpstreamTimeout
        ? "upstream_timeout"
        : reason !== undefined
        ? "client_closed"
        : "upstream_unreachable",
      error,
    );
  }
  const answeredAt = performance.now();
  flight.answered(answeredAt);
  const ttfbMs = Math.round((answeredAt - flight.startedAt) * 10) / 10;

  const status = upstream.status;
  const headers = clientHeaders(upstream.headers, options.needles);
  if (options.extraHeaders) addHeaders(headers, options.extraHeaders);
  const events = isEventStream(upstream.headers);
  // Compression middleware in front of an app (Express's compression(), which SvelteKit's
  // handler never flushes) would hold events back until the stream ends; no-transform keeps
  // it out of event streams.
  if (events) noTransform(headers);
  const init = { status, headers };
  const tap = options.tap?.(status, upstream.headers.get("content-type"));
  const step = options.step?.(status);
  const shape = options.errorShape ?? "keyward";
  if (step) {
    const response = stepped(
      upstream,
      init,
      { step, tap, shape },
      flight,
      method,
      options.extraHeaders,
    );
    return { response, ttfbMs };
  }
  // Checked first: reading `upstream.body` would make a stream of the bytes.
  const whole = wholeBody(upstream);
  if (whole) {
    // The body came whole with the head: hand the bytes on, no stream in between.
    tap?.feed(whole);
    flight.delivered(whole.byteLength);
    return { response: new Response(whole, init), ttfbMs };
  }
  if (!upstream.body || method === "HEAD") {
    await upstream.body?.cancel();
    flight.delivered(undefined);
    return { response: new Response(null, init), ttfbMs };
  }
  if (!tap && options.completed) {
    const length = knownLength(upstream.headers);
    if (length !== undefined && length <= MAX_PASS_THROUGH_BYTES) {
      flight.passThrough(options.completed, length);
      return { response: new Response(upstream.body, init), ttfbMs };
    }
  }
  // An event stream in plain text can be ended with an event of the gateway's own.
  flight.relayOptions(
    tap,
    undefined,
    Infinity,
    events && !upstream.headers.has("content-encoding") ? shape : undefined,
  );
  return { response: new Response(flight.relay(upstream.body), init), ttfbMs };
}

/**
 * The answer whose body passes through `step`: decoded when the upstream compressed it (and
 * sent on decoded), stepped as it streams, under the idle timeout and the client's hang-up to
 * its last byte; redirect and error bodies under {@linkcode MAX_SCAN_BYTES} too.
 */
function stepped(
  upstream: Response,
  init: { status: number; headers: HeaderRecord },
  { step, tap, shape }: { step: ChunkStep; tap: Tap | undefined; shape: ErrorShape },
  flight: Flight,
  method: string,
  extra: HeaderRecord | undefined,
): Response {
  const body = upstream.body;
  if (!body || method === "HEAD") {
    body?.cancel().catch(() => {});
    flight.delivered(undefined);
    return new Response(null, init);
  }
  const coding = decoderFor(upstream.headers.get("content-encoding"));
  if (coding === undefined) {
    // Never offered, so never expected: unreadable to the gateway, it cannot go on unread.
    body.cancel().catch(() => {});
    flight.delivered(undefined, "upstream_coding");
    return errorResponse(
      "bad_gateway",
      "The upstream answered in a content coding the gateway did not offer",
      extra,
    );
  }
  const whole = coding === "identity" ? wholeBody(upstream) : undefined;
  if (whole) {
    tap?.feed(whole);
    const first = step.push(whole);
    const rest = step.end();
    const clean = rest ? concatBytes([first, rest]) : first;
    flight.delivered(clean.byteLength);
    return new Response(clean as Uint8Array<ArrayBuffer>, init);
  }
  let plain: ReadableStream<Uint8Array> = body;
  if (coding !== "identity") {
    delete init.headers["content-encoding"];
    plain = gunzipped(body);
  }
  flight.relayOptions(
    tap,
    step,
    init.status >= 300 ? MAX_SCAN_BYTES : Infinity,
    isEventStream(upstream.headers) ? shape : undefined,
  );
  return new Response(flight.relay(plain), init);
}

/** Adds `no-transform` to a response's `cache-control`: proxies and middleware leave it as is. */
function noTransform(headers: HeaderRecord): void {
  const cache = headers["cache-control"];
  if (!cache) headers["cache-control"] = "no-transform";
  else if (!/(^|,)\s*no-transform\s*(,|$)/i.test(cache)) {
    headers["cache-control"] = `${cache}, no-transform`;
  }
}

function isEventStream(headers: Headers): boolean {
  return headers.get("content-type")?.toLowerCase().startsWith("text/event-stream") ?? false;
}

/** The body length the upstream declared, when it is exact (no content coding to undo). */
function knownLength(headers: Headers): number | undefined {
  const text = headers.get("content-length");
  if (text === null) return undefined;
  const length = Number(text);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
