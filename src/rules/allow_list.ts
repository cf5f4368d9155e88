/**
 * Allow lists compiled once into one regular expression per method (entries are parsed by
 * `config/allow_entry.ts`). `*` matches within one segment, `**` any number of segments (none
 * included). A path matches as written: a trailing slash matches only an entry that ends in
 * one, or in `**` (a subtree takes what is below it, a trailing slash too), since an upstream
 * may route `/x/` elsewhere than `/x` (Go's `ServeMux` takes `/x/` for a subtree).
 * A whole segment may instead say what an id looks like, so that a route with an id never
 * takes the literal route beside it (`/tasks/{ulid}` matches a task id, never
 * `/tasks/stream`): `{ulid}` a lowercase ULID, `{uuid}` a lowercase UUID, `{name:REGEX}` a
 * segment the regular expression matches whole. Anything not matched is denied.
 *
 * @module
 */
import { type AllowSegment, parseAllowEntry } from "../config/allow_entry.ts";

/** The regular expression sources of a glob's segments (no `{name:REGEX}` among them). */
function globToSources(segments: readonly AllowSegment[]): string[] {
  const last = segments.length - 1;
  const sources = segments.map((segment, i) => {
    // Any number of segments, including none: "/a/**" matches "/a" and "/a/b/c"; last in an
    // entry, a trailing slash too ("/a/b/").
    if (segment.kind === "any") return i === last ? "(?:/[^/]+)*/?" : "(?:/[^/]+)*";
    if (segment.kind === "pattern") {
      throw new Error("A {name:REGEX} segment is matched segment by segment");
    }
    return "/" + segment.source;
  });
  return sources.length === 1 && sources[0] === "/" ? ["/"] : sources;
}

interface Trie {
  end: boolean;
  children: Map<string, Trie>;
}

/**
 * One regular expression source for several globs, their common leading segments shared
 * (`/tasks/ID(?:|/status|/stream)`), so that a path is read once, not once per entry.
 */
function trieSource(globs: readonly string[][]): string {
  const root: Trie = { end: false, children: new Map() };
  for (const sources of globs) {
    let node = root;
    for (const source of sources) {
      let child = node.children.get(source);
      if (!child) node.children.set(source, child = { end: false, children: new Map() });
      node = child;
    }
    node.end = true;
  }
  const emit = (node: Trie): string => {
    const alternatives = [...node.children].map(([source, child]) => source + emit(child));
    if (node.end) alternatives.push("");
    return alternatives.length === 1 ? alternatives[0] : `(?:${alternatives.join("|")})`;
  };
  return emit(root);
}

/**
 * An entry with a `{name:REGEX}` segment: matched segment by segment, each regular
 * expression against one segment only, so none can reach across a `/`.
 */
function segmentMatcher(segments: readonly AllowSegment[]): (path: string) => boolean {
  const tests = segments.map((segment): (text: string) => boolean => {
    if (segment.kind === "pattern") return (text) => text !== "" && segment.regex.test(text);
    const whole = new RegExp(`^${(segment as { source: string }).source}$`);
    return (text) => whole.test(text);
  });
  return (path) => {
    const parts = path.split("/");
    if (parts[0] !== "" || parts.length - 1 !== tests.length) return false;
    for (let i = 0; i < tests.length; i++) if (!tests[i](parts[i + 1])) return false;
    return true;
  };
}

/** Tells whether a method and decoded path are allowed. */
export type AllowMatcher = (method: string, path: string) => boolean;

/** Options for {@linkcode compileAllow}. */
export interface AllowOptions {
  /** Whether a `GET` entry allows `HEAD` too (default true). */
  head?: boolean;
}

/**
 * Compiles an allow list. `GET` entries also allow `HEAD` (unless `head: false`); `*` allows
 * every method.
 * A trailing slash on the request path matches only an entry that ends in `/` or `**`. Entries
 * without a
 * `{name:REGEX}` segment (built-in shapes included) share one regular expression per method,
 * their common leading segments written once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileAllow } from "./allow_list.ts";
 *
 * const allowed = compileAllow(["POST /v1/chat/completions", "GET /tasks/{ulid}"]);
 * assert.equal(allowed("GET", "/tasks/01j9z3m8k2c9v7b4n6q5r0t1wx"), true);
 * assert.equal(allowed("HEAD", "/tasks/01j9z3m8k2c9v7b4n6q5r0t1wx"), true); // GET allows HEAD
 * assert.equal(allowed("GET", "/tasks/stream"), false); // not a ULID
 * assert.equal(allowed("GET", "/v1/chat/completions"), false);
 * assert.equal(allowed("POST", "/v1/chat/completions/"), false); // a slash the entry lacks
 * ```
 */
export function compileAllow(
  entries: readonly string[],
  options: AllowOptions = {},
): AllowMatcher {
  const byMethod = new Map<string, string[][]>();
  const slowByMethod = new Map<string, ((path: string) => boolean)[]>();
  const head = options.head ?? true;
  for (const entry of entries.map(parseAllowEntry)) {
    const methods = entry.method === "GET" && head ? ["GET", "HEAD"] : [entry.method];
    const slow = entry.segments.some((s) => s.kind === "pattern");
    const compiled = slow ? segmentMatcher(entry.segments) : globToSources(entry.segments);
    for (const method of methods) {
      if (Array.isArray(compiled)) {
        byMethod.set(method, [...(byMethod.get(method) ?? []), compiled]);
      } else slowByMethod.set(method, [...(slowByMethod.get(method) ?? []), compiled]);
    }
  }
  const compiled = new Map<string, RegExp>();
  for (const [method, globs] of byMethod) {
    compiled.set(method, new RegExp(`^${trieSource(globs)}$`));
  }
  const any = compiled.get("*");
  if (slowByMethod.size === 0) {
    return (method, path) => {
      const regex = compiled.get(method);
      return (regex !== undefined && regex.test(path)) || (any !== undefined && any.test(path));
    };
  }
  const slowAny = slowByMethod.get("*") ?? [];
  return (method, path) => {
    const regex = compiled.get(method);
    if ((regex !== undefined && regex.test(path)) || (any !== undefined && any.test(path))) {
      return true;
    }
    for (const matches of slowByMethod.get(method) ?? []) if (matches(path)) return true;
    for (const matches of slowAny) if (matches(path)) return true;
    return false;
  };
}
