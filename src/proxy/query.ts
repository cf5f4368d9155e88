/**
 * Query string hygiene: the parameters a route never forwards (a client's own key, access
 * token or billing project; the target URL parameter) are removed from a URL's query, matched
 * the way a lenient server reads names: after percent-decoding, in any case, split on `;` as
 * well as `&`. Every other parameter passes byte for byte.
 *
 * @module
 */

/**
 * Compiles parameter names for {@linkcode stripQuery}; undefined when there are none, so a
 * route without any skips the work.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryDropSet, stripQuery } from "./query.ts";
 *
 * const drop = queryDropSet(["key", "access_token"])!;
 * assert.equal(stripQuery("?alt=sse&KEY=AIza&access%5Ftoken=t", drop), "?alt=sse");
 * assert.equal(queryDropSet([]), undefined); // nothing to drop: the route skips the work
 * ```
 */
export function queryDropSet(
  names: readonly (string | undefined)[],
): ReadonlySet<string> | undefined {
  const set = new Set<string>();
  for (const name of names) if (name) set.add(name.toLowerCase());
  return set.size > 0 ? set : undefined;
}

/** A parameter's name as a server would read it: `+` is a space, `%XX` decoded, lower case. */
function paramName(part: string): string {
  const eq = part.indexOf("=");
  let name = eq === -1 ? part : part.slice(0, eq);
  if (name.includes("+")) name = name.replaceAll("+", " ");
  if (name.includes("%")) {
    // Only ASCII escapes: every name worth dropping is ASCII, and a malformed escape stays.
    name = name.replace(/%([0-7][0-9a-f])/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  }
  return name.toLowerCase();
}

/**
 * Removes every parameter named in `drop` from a URL's `search` (`"?a=1&key=x"`), keeping the
 * rest exactly as written. Returns `search` itself when nothing is removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stripQuery } from "./query.ts";
 *
 * assert.equal(stripQuery("?alt=sse&key=AIza", new Set(["key"])), "?alt=sse");
 * ```
 */
export function stripQuery(search: string, drop: ReadonlySet<string>): string {
  if (search.length <= 1) return search;
  let kept = "";
  let removed = false;
  let start = 1;
  for (let i = 1; i <= search.length; i++) {
    const code = search.charCodeAt(i);
    // "&" and ";" end a parameter; charCodeAt past the end is NaN and ends the last one.
    if (code === 38 || code === 59 || i === search.length) {
      const part = search.slice(start, i);
      if (part !== "" && drop.has(paramName(part))) {
        removed = true;
      } else if (part !== "") {
        kept += kept === "" ? part : search[start - 1] + part;
      }
      start = i + 1;
    }
  }
  if (!removed) return search;
  return kept === "" ? "" : `?${kept}`;
}
