/**
 * Content codings on routes whose answers may have to be scanned for the key.
 *
 * The gateway redacts the key from bodies it cannot see through a compression, so on those
 * routes it decodes what it scans, with the web-standard `DecompressionStream` (every runtime
 * the library targets has `gzip` and `deflate`; `br` and `zstd` are not standard there). Two
 * rules follow, and together they keep every scanned body readable and free of the key:
 * - the upstream is offered only the codings the client accepts that the gateway can decode
 *   (`gzip`, `deflate`), so an SDK's `gzip, deflate, br` becomes `gzip, deflate`;
 * - a body that must be scanned but arrives in any other coding (one the gateway never
 *   offered) is refused with 502: passing it on unscanned could leak the key, and the
 *   gateway cannot read it to find out.
 *
 * A scanned body reaches the client decoded (`content-encoding` removed): recompressing would
 * hold back a stream's bytes until a compressor block fills, and identity is always
 * acceptable to a client.
 *
 * @module
 */

/** Codings the gateway can decode, by their names in `Content-Encoding`. */
const DECODABLE: Record<string, CompressionFormat | "identity"> = {
  identity: "identity",
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
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
 * decodableAcceptEncoding("gzip, deflate, br"); // "gzip, deflate"
 * decodableAcceptEncoding("br"); // "identity"
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
 * How to decode a body of this `Content-Encoding`: `identity` when it is not encoded, the
 * `DecompressionStream` format when the gateway can decode it, undefined when it cannot
 * (an unknown coding, or several stacked).
 *
 * @example
 * ```ts
 * decoderFor(null); // "identity"
 * decoderFor("gzip"); // "gzip"
 * decoderFor("br"); // undefined
 * ```
 */
export function decoderFor(encoding: string | null): CompressionFormat | "identity" | undefined {
  if (encoding === null) return "identity";
  const name = encoding.trim().toLowerCase();
  if (name === "") return "identity";
  return Object.hasOwn(DECODABLE, name) ? DECODABLE[name] : undefined;
}
