/**
 * Sends a request upstream and streams the answer back. Bodies stream both ways without
 * buffering; redirects are not followed; the upstream request is aborted when the client
 * hangs up or the upstream stays silent past the route's timeout.
 *
 * @module
 */
import { finish, type RequestState } from "../context.ts";
import type { KeyEntry } from "../keys/source.ts";
import { UsageMeter } from "../observe/usage.ts";
import type { CompiledRoute } from "../route.ts";
import { errorResponse } from "./errors.ts";
import { clientHeaders, upstreamHeaders } from "./headers.ts";

const BODYLESS = new Set(["GET", "HEAD"]);
/** Error bodies up to this size are checked for an echoed key before they are passed on. */
const MAX_SCRUB_BYTES = 1024 * 1024;

class UpstreamTimeout extends Error {
  constructor() {
    super("Upstream did not answer in time");
    this.name = "UpstreamTimeout";
  }
}

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
  for (const [name, value] of route.headers) headers.set(name, value);
  // An explicit accept-encoding stops fetch from decompressing: bytes pass through as sent.
  // Routes that read usage need plain bodies, or a client could hide its tokens with gzip.
  headers.set(
    "accept-encoding",
    route.usage ? "identity" : (request.headers.get("accept-encoding") ?? "identity"),
  );
  if (key) route.inject(headers, url, key.secret);

  const controller = new AbortController();
  const onClientAbort = () => controller.abort(request.signal.reason);
  request.signal.addEventListener("abort", onClientAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(
    () => controller.abort(new UpstreamTimeout()),
    route.timeoutMs,
  );
  const method = request.method;
  const body = input.body !== undefined ? input.body : BODYLESS.has(method) ? null : request.body;
  // A body sent as the client sent it keeps its declared length: the upstream gets a
  // fixed-length upload rather than a chunked one (Deno's client streams those far faster).
  // A rewritten body gets its length from fetch.
  if (body === null || typeof body === "string") headers.delete("content-length");
  const sentAt = performance.now();
  let upstream: Response;
  try {
    upstream = await (input.fetch ?? fetch)(url, {
      method,
      headers,
      body,
      redirect: "manual",
      signal: controller.signal,
      // @ts-ignore: Deno and Node need duplex for streaming request bodies
      duplex: "half",
    });
  } catch (error) {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onClientAbort);
    // A rule that cut the upload (a body past its cap) has the answer ready.
    return state.refusal ?? failure(state, error, controller.signal.reason);
  } finally {
    // Deno.serve may abort request.signal once a response exists; from here on only a
    // cancelled response body (a real hang-up) may abort the upstream.
    request.signal.removeEventListener("abort", onClientAbort);
  }
  state.record.ttfb_ms = round(performance.now() - sentAt);

  const responseHeaders = clientHeaders(upstream.headers);
  const location = responseHeaders.get("location");
  if (location && key && location.includes(key.secret.reveal())) {
    responseHeaders.set("location", location.replaceAll(key.secret.reveal(), "[redacted]"));
  }
  if (upstream.status >= 400 && key && upstream.body) {
    clearTimeout(timer);
    return await scrubbed(upstream, responseHeaders, key, state);
  }
  if (!upstream.body || method === "HEAD") {
    clearTimeout(timer);
    await upstream.body?.cancel();
    return new Response(null, { status: upstream.status, headers: responseHeaders });
  }

  // Past the first byte the timeout becomes an idle timeout: it fires only when no byte has
  // come for a whole period, so a long stream runs on while bytes flow.
  let lastByte = performance.now();
  const idle = () => {
    const silent = performance.now() - lastByte;
    if (silent >= route.timeoutMs) controller.abort(new UpstreamTimeout());
    else timer = setTimeout(idle, route.timeoutMs - silent);
  };
  clearTimeout(timer);
  timer = setTimeout(idle, route.timeoutMs);

  const meter = route.usage
    ? new UsageMeter(route.usage, upstream.headers.get("content-type"))
    : undefined;
  const reader = upstream.body.getReader();
  let bytes = 0;
  let ended = false;
  const end = (aborted: boolean) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    timer = undefined;
    state.record.bytes_out = bytes;
    if (aborted) state.record.aborted = true;
    const usage = meter?.finish();
    if (usage) state.record.tokens = usage;
    finish(state);
  };
  state.streaming = true;
  const stream = new ReadableStream<Uint8Array>({
    async pull(out) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          out.close();
          end(false);
          return;
        }
        lastByte = performance.now();
        bytes += value.byteLength;
        meter?.feed(value);
        out.enqueue(value);
      } catch (error) {
        state.record.error = controller.signal.reason instanceof UpstreamTimeout
          ? "upstream went silent mid-stream"
          : `upstream stream failed: ${(error as Error).name}`;
        out.error(error);
        end(true);
      }
    },
    cancel(reason) {
      controller.abort(reason);
      reader.cancel(reason).catch(() => {});
      end(true);
    },
  }, { highWaterMark: 0 });
  return new Response(stream, { status: upstream.status, headers: responseHeaders });
}

async function scrubbed(
  upstream: Response,
  headers: Headers,
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
