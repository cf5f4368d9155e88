/**
 * Path safety: a request path is matched against allow lists only after it is proven to mean
 * the same thing to keyward and to the upstream. Dot segments, encoded slashes, backslashes,
 * NUL bytes and double encodings of them are refused, never forwarded.
 *
 * @module
 */

/** The outcome of checking a path: its decoded form, or why it is refused. */
export type PathCheck = { ok: true; decoded: string } | { ok: false; reason: string };

const SUSPICIOUS = /%|\\|\/\.\.?(?:\/|$)|\/\/|\0/;

/**
 * Checks a raw (still percent-encoded) URL path and decodes it for matching.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPath } from "./path.ts";
 *
 * assert.deepEqual(checkPath("/v1/models/gpt%2D4o"), { ok: true, decoded: "/v1/models/gpt-4o" });
 * assert.equal(checkPath("/v1/..%2Ffiles").ok, false); // an encoded slash: refused
 * assert.equal(checkPath("/v1/../files").ok, false); // a dot segment: refused
 * ```
 */
export function checkPath(raw: string): PathCheck {
  if (!raw.startsWith("/")) return { ok: false, reason: "Path must start with /" };
  // Fast path: nothing encoded and nothing that could be a dot segment or separator trick.
  if (!SUSPICIOUS.test(raw)) return { ok: true, decoded: raw };
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
  return { ok: true, decoded: decoded.join("/") };
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
