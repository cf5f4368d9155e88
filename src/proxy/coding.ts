/**
 * Content codings on routes whose answers may have to be scanned for the key.
 *
 * The gateway cannot redact a key from bytes it cannot see through a compression, so on those
 * routes it decodes what it scans, with the web-standard `DecompressionStream`. Two rules
 * follow, and together they keep every scanned body readable and free of the key:
 * - the upstream is offered only the coding the gateway decodes, `gzip`, and only when the
 *   client accepts it (an SDK's `gzip, deflate, br` becomes `gzip`). `br` and `zstd` are not
 *   standard in every runtime the library targets; `deflate` is left out because servers
 *   disagree on what it means (zlib-wrapped or raw) and some runtimes' `fetch` undoes it
 *   themselves;
 * - a body that must be scanned but arrives in any other coding (one the gateway never
 *   offered) is refused with 502: the gateway cannot read it, so it cannot tell whether it
 *   holds the key, and passing it on unread could leak it.
 *
 * A scanned body reaches the client decoded (`content-encoding` removed): recompressing would
 * hold a stream's bytes back until a compressor block fills, and identity is always
 * acceptable to a client. A body labelled gzip that does not start with gzip's magic bytes
 * was already decoded by the runtime's `fetch` (Node's does this whatever was asked) and is
 * scanned as it is.
 *
 * @module
 */

/** Codings the gateway decodes, by their names in `Content-Encoding`. */
const DECODABLE: Record<string, "gzip" | "identity"> = {
  identity: "identity",
  gzip: "gzip",
  "x-gzip": "gzip",
};

const offered = new Map<string, string>();
/** Distinct `Accept-Encoding` values remembered (clients send a handful). */
const MAX_REMEMBERED = 64;

/**
 * The `Accept-Encoding` to send upstream for a client's: its codings the gateway can decode,
 * with their weights; `identity` when none is left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodableAcceptEncoding } from "./coding.ts";
 *
 * assert.equal(decodableAcceptEncoding("gzip, deflate, br"), "gzip");
 * assert.equal(decodableAcceptEncoding("br"), "identity");
 * ```
 */
export function decodableAcceptEncoding(accept: string | null): string {
  if (accept === null) return "identity";
  let value = offered.get(accept);
  if (value !== undefined) return value;
  const kept: string[] = [];
  for (const part of accept.split(",")) {
    const item = part.trim();
    const name = item.split(";", 1)[0].trim().toLowerCase();
    if (name !== "identity" && Object.hasOwn(DECODABLE, name)) kept.push(item);
  }
  value = kept.length > 0 ? kept.join(", ") : "identity";
  if (offered.size >= MAX_REMEMBERED) offered.clear();
  offered.set(accept, value);
  return value;
}

/**
 * How to decode a body of this `Content-Encoding`: `identity` when it is not encoded, `gzip`
 * when it is gzip, undefined when the gateway does not decode it (any other coding, or
 * several stacked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decoderFor } from "./coding.ts";
 *
 * assert.equal(decoderFor(null), "identity");
 * assert.equal(decoderFor("gzip"), "gzip");
 * assert.equal(decoderFor("br"), undefined); // never offered: a scanned body is refused
 * ```
 */
export function decoderFor(encoding: string | null): "gzip" | "identity" | undefined {
  if (encoding === null) return "identity";
  const name = encoding.trim().toLowerCase();
  if (name === "") return "identity";
  return Object.hasOwn(DECODABLE, name) ? DECODABLE[name] : undefined;
}

/** A gzip decoder typed for the byte streams bodies are. */
function gunzip(): ReadableWritablePair<Uint8Array, Uint8Array> {
  return new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
}

/**
 * `body`, a gzip body, decoded; when its first bytes are not gzip's magic bytes it was decoded
 * already (by the runtime's `fetch`) and comes back as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzipped } from "./coding.ts";
 *
 * const gzip = new Response("hello").body!.pipeThrough(new CompressionStream("gzip"));
 * assert.equal(await new Response(gunzipped(gzip)).text(), "hello");
 * // a body the runtime's fetch decoded already comes back as it is
 * assert.equal(await new Response(gunzipped(new Response("hello").body!)).text(), "hello");
 * ```
 */
export function gunzipped(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let first: Uint8Array | undefined;
  const rest = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        controller.enqueue(first);
        first = undefined;
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!inner) {
        const head = await reader.read();
        if (head.done) return controller.close();
        first = head.value;
        const gzip = first.length < 2 || (first[0] === 0x1f && first[1] === 0x8b);
        inner = (gzip ? rest.pipeThrough(gunzip()) : rest).getReader();
      }
      const { done, value } = await inner.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => (inner ?? reader).cancel(reason),
  }, { highWaterMark: 0 });
}
