/**
 * Path safety: a request path is matched against allow lists only after it is proven to mean
 * the same thing to keyward and to the upstream, and what goes upstream is the normal form of
 * the path that was matched. Dot segments, encoded slashes, backslashes, NUL bytes and double
 * encodings of them are refused, never forwarded; so are escaped unreserved characters
 * (`%74asks` for `tasks`), which name the matched path only to an upstream that decodes them.
 * Escapes of other characters stay, in upper case (RFC 3986, section 6.2.2.1).
 *
 * @module
 */

/**
 * The outcome of checking a path: its decoded form (what the allow list matches) and its
 * normal form (what goes upstream), or why it is refused.
 */
export type PathCheck =
  | { ok: true; decoded: string; normal: string }
  | { ok: false; reason: string };

const SUSPICIOUS = /%|\\|\/\.\.?(?:\/|$)|\/\/|\0/;
/** An escape of an unreserved character: a letter, a digit, `-`, `.`, `_` or `~`. */
const UNRESERVED_ESCAPE = /%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2d|2e|5f|7e)/i;
const LOWER_HEX_ESCAPE = /%[0-9A-F]?[a-f]/;

/**
 * Checks a raw (still percent-encoded) URL path, decodes it for matching, and gives its normal
 * form for the upstream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPath } from "./path.ts";
 *
 * assert.deepEqual(checkPath("/v1/models/gpt-4o%3amini"), {
 *   ok: true,
 *   decoded: "/v1/models/gpt-4o:mini", // what the allow list matches
 *   normal: "/v1/models/gpt-4o%3Amini", // what the upstream receives
 * });
 * assert.equal(checkPath("/v1/%6dodels/gpt-4o").ok, false); // an escaped "m": refused
 * assert.equal(checkPath("/v1/..%2Ffiles").ok, false); // an encoded slash: refused
 * assert.equal(checkPath("/v1/../files").ok, false); // a dot segment: refused
 * ```
 */
export function checkPath(raw: string): PathCheck {
  if (!raw.startsWith("/")) return { ok: false, reason: "Path must start with /" };
  // Fast path: nothing encoded and nothing that could be a dot segment or separator trick.
  if (!SUSPICIOUS.test(raw)) return { ok: true, decoded: raw, normal: raw };
  if (raw.includes("\\")) return { ok: false, reason: "Backslashes are not allowed in paths" };
  if (raw.includes("//")) return { ok: false, reason: "Empty path segments are not allowed" };
  const segments = raw.split("/");
  const decoded: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const result = decodeSegment(segments[i]);
    if (typeof result !== "string") return result;
    if (result === "." || result === "..") {
      return { ok: false, reason: "Dot segments are not allowed in paths" };
    }
    decoded.push(result);
  }
  const escaped = UNRESERVED_ESCAPE.exec(raw);
  if (escaped) {
    const plain = decodeURIComponent(escaped[0]);
    return {
      ok: false,
      reason: `Escaped unreserved characters are not allowed in paths: write ${
        escaped[0]
      } as "${plain}"`,
    };
  }
  const normal = LOWER_HEX_ESCAPE.test(raw)
    ? raw.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())
    : raw;
  return { ok: true, decoded: decoded.join("/"), normal };
}

function decodeSegment(segment: string): string | { ok: false; reason: string } {
  let current = segment;
  // Decode until stable so a double (or triple) encoding cannot hide a separator.
  for (let round = 0; round < 4 && current.includes("%"); round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return { ok: false, reason: "Malformed percent-encoding in path" };
    }
    if (/[/\\\0]/.test(next)) {
      return { ok: false, reason: "Encoded slashes, backslashes or NUL are not allowed in paths" };
    }
    if (round > 0 && (next === "." || next === "..")) {
      return { ok: false, reason: "Dot segments are not allowed in paths" };
    }
    if (next === current) break;
    if (round === 0 && next.includes("%") && /%[0-9a-f]{2}/i.test(next)) {
      // A segment that still holds escapes after one decoding is double-encoded.
      return { ok: false, reason: "Double percent-encoding is not allowed in paths" };
    }
    current = next;
  }
  if (current.includes("\0")) return { ok: false, reason: "NUL is not allowed in paths" };
  return current;
}
