import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { decodableAcceptEncoding, decoderFor, gunzipped } from "./coding.ts";

function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

Deno.test("the upstream is offered only the client's codings the gateway can decode", () => {
  assert.equal(decodableAcceptEncoding("gzip, deflate, br"), "gzip");
  assert.equal(decodableAcceptEncoding("br;q=1.0, gzip;q=0.8, *;q=0.1"), "gzip;q=0.8");
  assert.equal(decodableAcceptEncoding("x-gzip"), "x-gzip");
  assert.equal(decodableAcceptEncoding("br, zstd, deflate"), "identity");
  assert.equal(decodableAcceptEncoding("constructor, __proto__"), "identity");
  assert.equal(decodableAcceptEncoding(null), "identity");
});

Deno.test("bodies the gateway can decode, and those it cannot", () => {
  assert.equal(decoderFor(null), "identity");
  assert.equal(decoderFor("identity"), "identity");
  assert.equal(decoderFor("GZIP"), "gzip");
  assert.equal(decoderFor("x-gzip"), "gzip");
  assert.equal(decoderFor("deflate"), undefined);
  assert.equal(decoderFor("br"), undefined);
  assert.equal(decoderFor("gzip, gzip"), undefined);
  assert.equal(decoderFor("toString"), undefined);
});

Deno.test("a gzip body is decoded, and one the runtime decoded already passes as it is", async () => {
  const text = JSON.stringify({ error: { message: "x".repeat(5000) } });
  const gzip = new Uint8Array(gzipSync(text));
  for (const size of [1, 7, 100_000]) {
    assert.equal(await new Response(gunzipped(streamOf(gzip, size))).text(), text, `size ${size}`);
  }
  const plain = new TextEncoder().encode(text);
  assert.equal(await new Response(gunzipped(streamOf(plain, 10))).text(), text);
  assert.equal(await new Response(gunzipped(streamOf(new Uint8Array(0), 1))).text(), "");
});
