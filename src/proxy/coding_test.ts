import assert from "node:assert/strict";
import { decodableAcceptEncoding, decoderFor } from "./coding.ts";

Deno.test("the upstream is offered only the client's codings the gateway can decode", () => {
  assert.equal(decodableAcceptEncoding("gzip, deflate, br"), "gzip, deflate");
  assert.equal(decodableAcceptEncoding("br;q=1.0, gzip;q=0.8, *;q=0.1"), "gzip;q=0.8");
  assert.equal(decodableAcceptEncoding("x-gzip"), "x-gzip");
  assert.equal(decodableAcceptEncoding("br, zstd"), "identity");
  assert.equal(decodableAcceptEncoding("constructor, __proto__"), "identity");
  assert.equal(decodableAcceptEncoding(null), "identity");
});

Deno.test("bodies the gateway can decode, and those it cannot", () => {
  assert.equal(decoderFor(null), "identity");
  assert.equal(decoderFor("identity"), "identity");
  assert.equal(decoderFor("GZIP"), "gzip");
  assert.equal(decoderFor("x-gzip"), "gzip");
  assert.equal(decoderFor("deflate"), "deflate");
  assert.equal(decoderFor("br"), undefined);
  assert.equal(decoderFor("gzip, gzip"), undefined);
  assert.equal(decoderFor("toString"), undefined);
});
