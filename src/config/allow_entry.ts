/**
 * The grammar of allow entries: `METHOD PATH-GLOB`, parsed when the config loads (the schema
 * checks every entry) and compiled by `rules/allow_list.ts`. `*` matches within one segment,
 * `**` any number of segments (none included); a whole segment may instead say what an id
 * looks like: `{ulid}` a lowercase ULID, `{uuid}` a lowercase UUID, `{name:REGEX}` a segment
 * the regular expression matches whole.
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
