/**
 * Which client calls the upstreams by default. Where the runtime gives scripts sockets
 * (Deno), keyward's own HTTP/1.1 client: it is as strict as nginx about what an upstream
 * writes, and never sends a request that may have reached the upstream a second time unless
 * its method is idempotent (Deno's `fetch` resends a POST when a pooled connection drops
 * after the upstream read it). The runtime's `fetch` elsewhere (Node's and Bun's do not
 * resend), and wherever an outbound proxy is configured (fetch honours `HTTP(S)_PROXY`, the
 * client does not) or tracing is on (Deno's OpenTelemetry gives each fetch a span).
 *
 * @module
 */
import { platform } from "../platform/mod.ts";
import { Http1Client } from "./http1/client.ts";

/** Variables that make the runtime's fetch the right client. */
const FETCH_VARIABLES = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "OTEL_DENO",
];

/** An upstream client chosen for this runtime. */
export interface UpstreamClient {
  /** The fetch to call upstreams with; undefined means the runtime's `fetch`. */
  fetch?: typeof fetch;
  /** Closes its idle connections. */
  close(): void;
}

/**
 * The default upstream client for this runtime and environment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildGateway } from "../gateway.ts";
 * import { defaultUpstream } from "./upstream.ts";
 *
 * // a provider on loopback
 * const provider = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
 *   return new Response("hello");
 * });
 * const upstream = defaultUpstream();
 * const gateway = await buildGateway({
 *   routes: [{
 *     name: "local",
 *     path: "/local",
 *     upstream: `http://127.0.0.1:${provider.addr.port}`,
 *     allow: ["GET /**"],
 *   }],
 * }, { upstreamFetch: upstream.fetch, log: () => {} });
 *
 * const answer = await gateway.app.fetch(new Request("http://gateway/local/v1/models"));
 * assert.equal(await answer.text(), "hello");
 * await gateway.close();
 * upstream.close(); // its idle connections
 * await provider.shutdown();
 * ```
 */
export function defaultUpstream(): UpstreamClient {
  if (!platform.dial || FETCH_VARIABLES.some((name) => platform.env(name))) {
    return { close() {} };
  }
  const client = new Http1Client();
  return { fetch: client.fetch as typeof fetch, close: () => client.close() };
}
