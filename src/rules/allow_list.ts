/**
 * Allow lists as data: `METHOD PATH-GLOB` entries parsed (the config schema checks them) and
 * compiled once into one regular expression per method. `*` matches within one segment, `**` any number of segments (none included).
 * A whole segment may instead say what an id looks like, so that a route with an id never
 * takes the literal route beside it (`/tasks/{ulid}` matches a task id, never
 * `/tasks/stream`): `{ulid}` a lowercase ULID, `{uuid}` a lowercase UUID, `{name:REGEX}` a
 * segment the regular expression matches whole. Anything not matched is denied.
 *
 * @module
 */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"]);

/** The built-in id shapes, as regular expression sources that cannot match a `/`. */
const SHAPES: Readonly<Record<string, string>> = {
  // 26 Crockford base32 characters (no i, l, o, u); 48 bits of time keep the first under 8.
  ulid: "[0-7][0-9a-hjkmnp-tv-z]{25}",
  uuid: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
};

/** One segment of a parsed glob. */
export type AllowSegment =
  /** Literal text with `*` wildcards, as a regular expression source. */
  | { kind: "glob"; source: string }
  /** `**`: any number of segments. */
  | { kind: "any" }
  /** `{ulid}`, `{uuid}`: a built-in id shape, as a regular expression source. */
  | { kind: "shape"; source: string }
  /** `{name:REGEX}`: a segment the expression matches whole. */
  | { kind: "pattern"; regex: RegExp };

/** One parsed allow entry. */
export interface AllowEntry {
  /** Upper-case method, or `*` for any. */
  method: string;
  /** The path glob, starting with `/`. */
  glob: string;
  /** The glob's segments, parsed. */
  segments: AllowSegment[];
}

/**
 * Parses one allow entry such as `POST /v1/chat/completions` or `GET /tasks/{ulid}`.
 *
 * @throws {Error} when the entry is not `METHOD /glob`, or a segment pattern is malformed
 */
export function parseAllowEntry(entry: string): AllowEntry {
  const parts = entry.trim().split(/\s+/);
  if (parts.length !== 2) {
    throw new Error(`Cannot parse allow entry "${entry}": use "METHOD /path/glob"`);
  }
  const method = parts[0].toUpperCase();
  const glob = parts[1];
  const fail = (why: string): never => {
    throw new Error(`Cannot parse allow entry "${entry}": ${why}`);
  };
  if (!METHODS.has(method)) fail(`unknown method ${parts[0]}`);
  if (!glob.startsWith("/")) fail("the path must start with /");
  const segments = splitSegments(glob.slice(1), fail).map((text) => parseSegment(text, fail));
  if (segments.some((s) => s.kind === "pattern") && segments.some((s) => s.kind === "any")) {
    fail("** cannot be combined with a {name:REGEX} segment");
  }
  return { method, glob, segments };
}

/** Splits a glob (without its leading `/`) at the slashes outside `{…}`. */
function splitSegments(text: string, fail: (why: string) => never): string[] {
  const segments: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && depth > 0) i++;
    else if (c === "{") depth++;
    else if (c === "}") {
      if (--depth < 0) fail("} without {");
    } else if (c === "/") {
      if (depth > 0) fail("a {…} segment pattern cannot match /");
      segments.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) fail("{ without }");
  segments.push(text.slice(start));
  return segments;
}

function parseSegment(text: string, fail: (why: string) => never): AllowSegment {
  if (text === "**") return { kind: "any" };
  if (text === "." || text === "..") fail("dot segments never match");
  if (text.includes("**")) fail("** must be a whole segment");
  if (!text.includes("{") && !text.includes("}")) {
    return { kind: "glob", source: text.split("*").map(escape).join("[^/]+") };
  }
  const whole = text.startsWith("{") && text.endsWith("}") && closesAt(text) === text.length - 1;
  if (!whole) fail(`a {…} pattern must be a whole segment, not part of "${text}"`);
  const inner = text.slice(1, -1);
  const colon = inner.indexOf(":");
  if (colon === -1) {
    const shape = SHAPES[inner];
    if (shape === undefined) {
      fail(`unknown segment pattern {${inner}}: use {ulid}, {uuid} or {name:REGEX}`);
    }
    return { kind: "shape", source: shape };
  }
  const name = inner.slice(0, colon);
  const source = inner.slice(colon + 1);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    fail(`segment pattern {${inner}} needs a name before its colon, as in {id:[0-9]+}`);
  }
  if (source === "") fail(`segment pattern {${name}:} has no regular expression`);
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${source})$`, "u");
  } catch (error) {
    return fail(`cannot compile {${name}:…}: ${(error as Error).message}`);
  }
  return { kind: "pattern", regex };
}

/** Index of the `}` that closes the `{` at index 0. */
function closesAt(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/** The regular expression sources of a glob's segments (no `{name:REGEX}` among them). */
function globToSources(segments: readonly AllowSegment[]): string[] {
  const sources = segments.map((segment) => {
    // Any number of segments, including none: "/a/**" matches "/a" and "/a/b/c".
    if (segment.kind === "any") return "(?:/[^/]+)*";
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
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
    const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
    const parts = trimmed.split("/");
    if (parts[0] !== "" || parts.length - 1 !== tests.length) return false;
    for (let i = 0; i < tests.length; i++) if (!tests[i](parts[i + 1])) return false;
    return true;
  };
}

/** Tells whether a method and decoded path are allowed. */
export type AllowMatcher = (method: string, path: string) => boolean;

/**
 * Compiles an allow list. `GET` entries also allow `HEAD`; `*` allows every method.
 * A trailing slash on the request path is not significant. Entries without a
 * `{name:REGEX}` segment (built-in shapes included) share one regular expression per method,
 * their common leading segments written once.
 *
 * @example
 * ```ts
 * const allowed = compileAllow(["POST /v1/chat/completions", "GET /tasks/{ulid}"]);
 * allowed("GET", "/tasks/01j9z3m8k2c9v7b4n6q5r0t1wx"); // true
 * allowed("GET", "/tasks/stream"); // false
 * ```
 */
export function compileAllow(entries: readonly string[]): AllowMatcher {
  const byMethod = new Map<string, string[][]>();
  const slowByMethod = new Map<string, ((path: string) => boolean)[]>();
  for (const entry of entries.map(parseAllowEntry)) {
    const methods = entry.method === "GET" ? ["GET", "HEAD"] : [entry.method];
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
    compiled.set(method, new RegExp(`^${trieSource(globs)}/?$`));
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
