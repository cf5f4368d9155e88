/**
 * Hot-path cost of header hygiene: a browser's request headers copied for the upstream, and
 * an upstream's response headers copied for the client.
 *
 * @module
 */
import { clientHeaders, requestDropSet, upstreamHeaders } from "./headers.ts";

const drop = requestDropSet(["authorization"]);
const request = new Headers({
  accept: "application/json",
  authorization: "Bearer browser-token",
  cookie: "session=1",
  "content-type": "application/json",
  "user-agent": "Mozilla/5.0",
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  "x-forwarded-for": "203.0.113.9",
});
const response = new Headers({
  "content-type": "text/event-stream",
  "set-cookie": "a=1",
  connection: "keep-alive",
  "x-request-id": "abc",
  "openai-processing-ms": "12",
});

Deno.bench("headers: request to upstream", () => {
  upstreamHeaders(request, drop);
});

Deno.bench("headers: response to client", () => {
  clientHeaders(response);
});
