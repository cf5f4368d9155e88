/** @module */
import assert from "node:assert/strict";
import {
  addHeaders,
  addToHeaders,
  clientHeaders,
  headerRecord,
  requestDropSet,
  upstreamHeaders,
} from "./headers.ts";

Deno.test("upstream headers leave out credentials, hop-by-hop and Connection-named headers", () => {
  const incoming = new Headers({
    "authorization": "Bearer client-token",
    "cookie": "session=1",
    "connection": "x-hop",
    "x-hop": "1",
    "traceparent": "00-abc-def-01",
    "x-goog-api-key": "client-key",
    "origin": "https://app.example",
    "sec-fetch-site": "same-origin",
    "sec-fetch-mode": "cors",
    "content-type": "application/json",
  });
  const out = upstreamHeaders(incoming, requestDropSet(["X-Goog-Api-Key"]));
  assert.deepEqual({ ...out }, { "content-type": "application/json" });
});

Deno.test("any header name is an own key of a record, and nothing is inherited", () => {
  const incoming = new Headers([["__proto__", "a"], ["constructor", "b"], ["x", "c"]]);
  const out = clientHeaders(incoming);
  assert.deepEqual(Object.keys(out), ["__proto__", "constructor", "x"]);
  // upstream, a name with an underscore is never sent at all
  assert.deepEqual(Object.keys(upstreamHeaders(incoming, new Set())), ["constructor", "x"]);
  assert.equal(out["__proto__"], "a");
  const empty = headerRecord();
  assert.equal(empty["toString"], undefined);
  assert.equal(empty["constructor"], undefined);
  assert.equal(empty["__proto__"], undefined);
  assert.deepEqual(new Headers(out).get("__proto__"), "a");
});

Deno.test("client headers drop cookies and lengths; gateway headers replace, vary lists both", () => {
  const out = clientHeaders(
    new Headers({
      "set-cookie": "a=1",
      "content-length": "2",
      "vary": "Accept",
      "x-request-id": "from-upstream",
    }),
  );
  addHeaders(out, { "x-request-id": "gw-1", vary: "Origin" });
  assert.deepEqual({ ...out }, { vary: "Accept, Origin", "x-request-id": "gw-1" });
  const headers = new Headers({ vary: "Accept" });
  addToHeaders(headers, { "x-request-id": "gw-1", vary: "Origin" });
  assert.equal(headers.get("vary"), "Accept, Origin");
  assert.equal(headers.get("x-request-id"), "gw-1");
});
