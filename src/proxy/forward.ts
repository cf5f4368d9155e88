/**
 * Sends a request upstream and streams the answer back. Bodies stream both ways without
 * buffering; redirects are not followed; the upstream request is aborted when the client
 * hangs up or the upstream stays silent past the route's timeout, until the last byte of
 * every body.
 *
 * The key the request was sent with never reaches the client: every response header of every
 * status is checked for it (one `includes` per value), and the bodies an upstream may echo it
 * in are scanned as they stream: redirects and errors (3xx, 4xx, 5xx) on every route, and
 * every body on a route whose key travels in the query string (upstreams echo URLs). A plain
 * 2xx answer on a route whose key travels in a header is not scanned: it is the hot path.
 *
 * @module
 */
import { readBodyWithin, watchBody } from "../body/deadline.ts";
import type { RequestState } from "../context.ts";
import type { KeyEntry } from "../keys/source.ts";
import { UsageMeter } from "../observe/usage.ts";
import type { CompiledRoute } from "../route.ts";
import { decodableAcceptEncoding, decoderFor, gunzipped } from "./coding.ts";
import { errorResponse } from "./errors.ts";
import { Flight, UpstreamTimeout } from "./flight.ts";
import { addHeaders, clientHeaders, type HeaderRecord, upstreamHeaders } from "./headers.ts";
import { wholeBody } from "./http1/client.ts";
import { type Needles, needlesOf, redactBytes, StreamRedactor } from "./redact.ts";

const BODYLESS = new Set(["GET", "HEAD"]);
/**
 * Redirect and error bodies are scanned for the key up to this size (decoded). Past it the
 * body is cut: nothing beyond the cap is sent, the client's response ends in an error rather
 * than a clean end (so a truncated body is never taken for a whole one), the upstream
 * connection is closed and the log line says so. No provider's error runs this long; an
 * upstream that sends more is broken or hostile, and a compressed one could expand without end.
 */
export const MAX_SCAN_BYTES = 1024 * 1024;
/**
 * Bodies of known length up to this size, on routes that read no usage, are passed through
 * natively when the server can say when they were delivered. Their timeout then counts from
 * the response headers to the end (a body this small does not run long while bytes flow).
 */
export const MAX_PASS_THROUGH_BYTES = 1024 * 1024;
/** Client request bodies of declared length up to this size are read whole before sending. */
export const INLINE_BODY_BYTES = 64 * 1024;

/** What the forwarder needs besides the route. */
export interface ForwardInput {
  /** The client's request. */
  request: Request;
  /** The URL to call (the key is added here). */
  url: URL;
  /** The key to inject, if the route has one. */
  key?: KeyEntry;
  /** The request body to send instead of `request.body` (rules may rewrite it). */
  body?: BodyInit | null;
  /** The fetch that reaches the upstream (the global one by default). */
  fetch?: typeof fetch;
  /**
   * Settles when the response has been delivered to the client (`Deno.serve`'s
   * `info.completed`); when given, small bodies skip the JavaScript relay.
   */
  completed?: Promise<void>;
}

/**
 * Forwards one request and returns the response to send to the client.
 *
 * @example
 * ```ts
 * const response = await forward(route, state, { request, url, key: route.keys?.pick() });
 * ```
 */
export async function forward(
  route: CompiledRoute,
  state: RequestState,
  input: ForwardInput,
): Promise<Response> {
  const { request, url, key } = input;
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

  const flight = new Flight(request, route.timeoutMs, state);
  const method = request.method;
  const own = input.body === undefined && !BODYLESS.has(method);
  let body: BodyInit | null;
  try {
    body = own ? await ownBody(request, headers, state) : input.body ?? null;
  } catch {
    flight.settle();
    if (state.refusal) return state.refusal; // the body timed out
    state.record.aborted = true;
    state.record.error = "client body failed";
    return errorResponse("invalid_request", "The request body could not be read");
  }
  let upstream: Response;
  try {
    // The client's own body keeps its declared length: the upstream gets a fixed-length upload
    // rather than a chunked one (Deno's client streams those far faster). Any other body (rules
    // read it, a cap wraps it, a replay holds it) gets its length from the sender.
    if (!own || body === null) delete headers["content-length"];
    upstream = await (input.fetch ?? fetch)(url, {
      method,
      headers,
      body,
      redirect: "manual",
      signal: flight.signal,
      // @ts-ignore: Deno and Node need duplex for streaming request bodies
      duplex: "half",
    });
  } catch (error) {
    flight.settle();
    // A rule that cut the upload (a body past its cap) has the answer ready.
    if (state.refusal) return state.refusal;
    const answer = failure(state, error, flight.signal.reason);
    if (route.usage && state.record.aborted) {
      // The client hung up before the answer: the upstream may have read the prompt, so the
      // request is charged its input estimate (see UsageMeter.charge), or hanging up early
      // would be free.
      const input = requestBytes(state, request, body);
      state.record.tokens = { input, output: 0, total: input };
      state.record.tokens_estimated = true;
    }
    return answer;
  }
  const answeredAt = performance.now();
  flight.answered(answeredAt);
  state.record.ttfb_ms = round(answeredAt - flight.startedAt);

  const status = upstream.status;
  const needles = key ? needlesOf(key.secret) : undefined;
  const responseHeaders = clientHeaders(upstream.headers, needles);
  addHeaders(responseHeaders, state.headers);
  // Compression middleware in front of an app (Express's compression(), which SvelteKit's
  // handler never flushes) would hold events back until the stream ends; no-transform keeps
  // it out of event streams.
  if (isEventStream(upstream.headers)) noTransform(responseHeaders);
  const init = { status, headers: responseHeaders };
  const meter = route.usage
    ? new UsageMeter(route.usage, upstream.headers.get("content-type"))
    : undefined;
  if (needles && (status >= 300 || route.keyConfig?.query !== undefined)) {
    const inputBytes = meter && status < 300 ? requestBytes(state, request, body) : undefined;
    return scanned(upstream, init, needles, flight, state, meter, inputBytes, method);
  }
  // Checked first: reading `upstream.body` would make a stream of the bytes.
  const whole = wholeBody(upstream);
  if (whole) {
    // The body came whole with the head: hand the bytes on, no stream in between.
    flight.settle();
    state.record.bytes_out = whole.byteLength;
    if (meter) {
      meter.feed(whole);
      const usage = meter.finish();
      if (usage) state.record.tokens = usage;
    }
    return decorated(state, new Response(whole, init));
  }
  if (!upstream.body || method === "HEAD") {
    flight.settle();
    await upstream.body?.cancel();
    return decorated(state, new Response(null, init));
  }
  if (!route.usage && input.completed) {
    const length = knownLength(upstream.headers);
    if (length !== undefined && length <= MAX_PASS_THROUGH_BYTES) {
      flight.passThrough(input.completed, length);
      return decorated(state, new Response(upstream.body, init));
    }
  }
  // An event stream in plain text can be ended with an event of the gateway's own.
  const events = isEventStream(upstream.headers) && !upstream.headers.has("content-encoding");
  flight.relayOptions(
    events,
    meter && status < 300 ? requestBytes(state, request, body) : undefined,
  );
  return decorated(state, new Response(flight.relay(upstream.body, meter), init));
}

/**
 * The answer to a request whose response body must be scanned for the key: decoded when the
 * upstream compressed it (and sent on decoded), redacted as it streams, under the route's
 * idle timeout and the client's hang-up to its last byte; redirect and error bodies under
 * {@linkcode MAX_SCAN_BYTES} too.
 */
function scanned(
  upstream: Response,
  init: { status: number; headers: HeaderRecord },
  needles: Needles,
  flight: Flight,
  state: RequestState,
  meter: UsageMeter | undefined,
  inputBytes: number | undefined,
  method: string,
): Response {
  const body = upstream.body;
  if (!body || method === "HEAD") {
    flight.settle();
    body?.cancel().catch(() => {});
    return decorated(state, new Response(null, init));
  }
  const coding = decoderFor(upstream.headers.get("content-encoding"));
  if (coding === undefined) {
    // Never offered, so never expected: unreadable to the gateway, it cannot go on unscanned.
    flight.settle();
    body.cancel().catch(() => {});
    state.record.error = "upstream body in a coding the gateway cannot decode";
    return errorResponse(
      "bad_gateway",
      "The upstream answered in a content coding the gateway did not offer",
    );
  }
  const whole = coding === "identity" ? wholeBody(upstream) : undefined;
  if (whole) {
    flight.settle();
    const clean = redactBytes(whole, needles);
    state.record.bytes_out = clean.byteLength;
    if (meter) {
      meter.feed(whole);
      const charge = meter.charge(inputBytes, true);
      if (charge) state.record.tokens = charge.usage;
      if (charge?.estimated) state.record.tokens_estimated = true;
    }
    return decorated(state, new Response(clean, init));
  }
  let plain: ReadableStream<Uint8Array> = body;
  if (coding !== "identity") {
    delete init.headers["content-encoding"];
    plain = gunzipped(body);
  }
  flight.scan(new StreamRedactor(needles), init.status >= 300 ? MAX_SCAN_BYTES : Infinity);
  flight.relayOptions(isEventStream(upstream.headers), inputBytes);
  return decorated(state, new Response(flight.relay(plain, meter), init));
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

/**
 * The request body's size in bytes, for a usage estimate: what the rules sent or counted,
 * else the declared length.
 */
function requestBytes(state: RequestState, request: Request, body: BodyInit | null): number {
  if (state.record.bytes_in !== undefined) return state.record.bytes_in;
  if (body instanceof Uint8Array) return body.byteLength;
  return Number(request.headers.get("content-length")) || 0;
}

/** Notes that `response` carries the gateway's headers already (see `RequestState.headers`). */
function decorated(state: RequestState, response: Response): Response {
  state.decorated = response;
  return response;
}

/**
 * The client's request body: a small one of declared length as bytes (read in one go, cheaper
 * than a stream and sent with the request head), anything else as the stream it is.
 */
async function ownBody(
  request: Request,
  headers: HeaderRecord,
  state: RequestState,
): Promise<BodyInit | null> {
  const declared = headers["content-length"];
  if (declared !== undefined && Number(declared) <= INLINE_BODY_BYTES) {
    return await readBodyWithin(request, state);
  }
  // A chunked body is watched for silence. One of declared length goes to the upstream natively
  // (a stream in between would halve upload speed): the route's timeout bounds its stall.
  return declared === undefined && request.body ? watchBody(request.body, state) : request.body;
}

/**
 * The `completed` promise of `Deno.serve`'s handler info, when `env` (what Hono passes as
 * `c.env`) is that info.
 */
export function completedOf(env: unknown): Promise<void> | undefined {
  const completed = (env as { completed?: Promise<void> } | undefined)?.completed;
  return completed instanceof Promise ? completed : undefined;
}

/** The body length the upstream declared, when it is exact (no content coding to undo). */
function knownLength(headers: Headers): number | undefined {
  const text = headers.get("content-length");
  if (text === null) return undefined;
  const length = Number(text);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function failure(state: RequestState, error: unknown, reason: unknown): Response {
  if (reason instanceof UpstreamTimeout) {
    state.record.error = "upstream timeout";
    return errorResponse("gateway_timeout", "The upstream did not answer in time");
  }
  if (reason !== undefined) {
    state.record.aborted = true;
    state.record.error = "client closed the request";
    // The client is gone; this response is never read.
    return errorResponse("bad_gateway", "The client closed the request");
  }
  state.record.error = `upstream unreachable: ${(error as Error).name}`;
  return errorResponse("bad_gateway", "The upstream could not be reached");
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
