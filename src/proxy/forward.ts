/**
 * Sends a request upstream and streams the answer back. Bodies stream both ways without
 * buffering; redirects are not followed; the upstream request is aborted when the client
 * hangs up or the upstream stays silent past the route's timeout.
 *
 * @module
 */
import type { RequestState } from "../context.ts";
import type { KeyEntry } from "../keys/source.ts";
import { UsageMeter } from "../observe/usage.ts";
import type { CompiledRoute } from "../route.ts";
import { errorResponse } from "./errors.ts";
import { Flight, UpstreamTimeout } from "./flight.ts";
import { clientHeaders, type HeaderRecord, upstreamHeaders } from "./headers.ts";
import { wholeBody } from "./http1/client.ts";

const BODYLESS = new Set(["GET", "HEAD"]);
/** Error bodies up to this size are checked for an echoed key before they are passed on. */
const MAX_SCRUB_BYTES = 1024 * 1024;
/**
 * Bodies of known length up to this size, on routes that read no usage, are passed through
 * natively when the server can say when they were delivered. Their timeout then counts from
 * the response headers to the end (a body this small does not run long while bytes flow).
 */
export const MAX_PASS_THROUGH_BYTES = 1024 * 1024;

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
  headers["accept-encoding"] = route.usage
    ? "identity"
    : (request.headers.get("accept-encoding") ?? "identity");
  if (key) route.inject(headers, url, key.secret);

  const flight = new Flight(request, route.timeoutMs, state);
  const method = request.method;
  const body = input.body !== undefined ? input.body : BODYLESS.has(method) ? null : request.body;
  // The client's own body stream keeps its declared length: the upstream gets a fixed-length
  // upload rather than a chunked one (Deno's client streams those far faster). Any other body
  // (rules read it, a cap wraps it, a replay holds it) gets its length from the sender.
  if (body === null || input.body !== undefined) delete headers["content-length"];
  let upstream: Response;
  try {
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
    return state.refusal ?? failure(state, error, flight.signal.reason);
  }
  const answeredAt = performance.now();
  flight.answered(answeredAt);
  state.record.ttfb_ms = round(answeredAt - flight.startedAt);

  const responseHeaders = clientHeaders(upstream.headers);
  const location = responseHeaders.location;
  if (location && key && location.includes(key.secret.reveal())) {
    responseHeaders.location = location.replaceAll(key.secret.reveal(), "[redacted]");
  }
  if (upstream.status >= 400 && key && upstream.body) {
    flight.settle();
    return await scrubbed(upstream, responseHeaders, key, state);
  }
  if (!upstream.body || method === "HEAD") {
    flight.settle();
    await upstream.body?.cancel();
    return new Response(null, { status: upstream.status, headers: responseHeaders });
  }

  const init = { status: upstream.status, headers: responseHeaders };
  const whole = wholeBody(upstream);
  if (whole) {
    // The body came whole with the head: hand the bytes on, no stream in between.
    flight.settle();
    state.record.bytes_out = whole.byteLength;
    if (route.usage) {
      const meter = new UsageMeter(route.usage, upstream.headers.get("content-type"));
      meter.feed(whole);
      const usage = meter.finish();
      if (usage) state.record.tokens = usage;
    }
    return new Response(whole, init);
  }
  if (!route.usage && input.completed) {
    const length = knownLength(upstream.headers);
    if (length !== undefined && length <= MAX_PASS_THROUGH_BYTES) {
      flight.passThrough(input.completed, length);
      return new Response(upstream.body, init);
    }
  }
  const meter = route.usage
    ? new UsageMeter(route.usage, upstream.headers.get("content-type"))
    : undefined;
  return new Response(flight.relay(upstream.body, meter), init);
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

async function scrubbed(
  upstream: Response,
  headers: HeaderRecord,
  key: KeyEntry,
  state: RequestState,
): Promise<Response> {
  const length = Number(upstream.headers.get("content-length") ?? "0");
  if (length > MAX_SCRUB_BYTES) {
    return new Response(upstream.body, { status: upstream.status, headers });
  }
  const text = await upstream.text();
  const secret = key.secret.reveal();
  const clean = text.includes(secret) ? text.replaceAll(secret, "[redacted]") : text;
  state.record.bytes_out = clean.length;
  return new Response(clean, { status: upstream.status, headers });
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
