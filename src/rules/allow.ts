/**
 * The allow list: `METHOD PATH-GLOB` entries compiled once into one regular expression per
 * method. `*` matches within one segment, `**` any number of segments (none included).
 * Anything not matched is denied.
 *
 * @module
 */
import type { Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import type { CompiledRoute } from "../route.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"]);

/** One parsed allow entry. */
export interface AllowEntry {
  /** Upper-case method, or `*` for any. */
  method: string;
  /** The path glob, starting with `/`. */
  glob: string;
}

/**
 * Parses one allow entry such as `POST /v1/chat/completions`.
 *
 * @throws {Error} when the entry is not `METHOD /glob`
 */
export function parseAllowEntry(entry: string): AllowEntry {
  const parts = entry.trim().split(/\s+/);
  if (parts.length !== 2) {
    throw new Error(`Cannot parse allow entry "${entry}": use "METHOD /path/glob"`);
  }
  const method = parts[0].toUpperCase();
  const glob = parts[1];
  if (!METHODS.has(method)) {
    throw new Error(`Cannot parse allow entry "${entry}": unknown method ${parts[0]}`);
  }
  if (!glob.startsWith("/")) {
    throw new Error(`Cannot parse allow entry "${entry}": the path must start with /`);
  }
  if (/\*\*\*|[^/]\*\*|\*\*[^/]/.test(glob)) {
    throw new Error(`Cannot parse allow entry "${entry}": ** must be a whole segment`);
  }
  if (glob.split("/").some((s) => s === "." || s === "..")) {
    throw new Error(`Cannot parse allow entry "${entry}": dot segments never match`);
  }
  return { method, glob };
}

function globToSource(glob: string): string {
  let source = "";
  const segments = glob.split("/").slice(1);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === "**") {
      // Any number of segments, including none: "/a/**" matches "/a" and "/a/b/c".
      source += "(?:/[^/]+)*";
      continue;
    }
    source += "/" + segment.split("*").map(escape).join("[^/]+");
  }
  return source || "/";
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Tells whether a method and decoded path are allowed. */
export type AllowMatcher = (method: string, path: string) => boolean;

/**
 * Compiles an allow list. `GET` entries also allow `HEAD`; `*` allows every method.
 * A trailing slash on the request path is not significant.
 *
 * @example
 * ```ts
 * const allowed = compileAllow(["POST /v1/chat/completions", "GET /v1/models/*"]);
 * allowed("GET", "/v1/models/gpt-4o"); // true
 * allowed("DELETE", "/v1/models/gpt-4o"); // false
 * ```
 */
export function compileAllow(entries: readonly string[]): AllowMatcher {
  const byMethod = new Map<string, string[]>();
  for (const entry of entries.map(parseAllowEntry)) {
    const methods = entry.method === "GET" ? ["GET", "HEAD"] : [entry.method];
    for (const method of methods) {
      const list = byMethod.get(method) ?? [];
      list.push(globToSource(entry.glob));
      byMethod.set(method, list);
    }
  }
  const compiled = new Map<string, RegExp>();
  for (const [method, sources] of byMethod) {
    compiled.set(method, new RegExp(`^(?:${sources.join("|")})/?$`));
  }
  const any = compiled.get("*");
  return (method, path) => {
    const regex = compiled.get(method);
    return (regex !== undefined && regex.test(path)) || (any !== undefined && any.test(path));
  };
}

/**
 * The rule that refuses (403) any method and path outside the route's allow list; the
 * request never reaches the upstream.
 */
export function allowRule(route: CompiledRoute): Rule {
  const allowed = route.allow;
  const name = route.name;
  return async (c, next) => {
    const path = c.get("state").upstreamPath!;
    const method = c.req.method;
    if (!allowed(method, path)) {
      return errorResponse("forbidden", `${method} ${path} is not allowed on route ${name}`);
    }
    await next();
  };
}
