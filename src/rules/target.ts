/**
 * Target mode: the client names the whole upstream URL in a header (or, for EventSource, a
 * query parameter), as the @inferencesh/sdk and @fal-ai/client browser SDKs do. The URL must
 * parse without any normalisation of its host, use https (http only to loopback), carry no
 * userinfo or fragment, and its host must match `hosts` exactly.
 *
 * @module
 */
import { type HostRule, parseHostRule } from "../config/host_rule.ts";
import { isLoopback } from "../config/loopback.ts";

/**
 * The outcome of resolving a target: the URL to call and its path as the client wrote it
 * (before the URL parser resolved dot segments in it), or a refusal with its status.
 */
export type TargetResult =
  | { ok: true; url: URL; path: string }
  | { ok: false; status: 400 | 403; message: string };

/** A route's target settings. */
export interface TargetConfig {
  /** Header holding the target URL. */
  header?: string;
  /** Query parameter holding the target URL (EventSource fallback). */
  query?: string;
  /** Allowed hosts: `example.com`, `*.example.com`, `example.com:8443`. */
  hosts: readonly string[];
}

// deno-lint-ignore no-control-regex -- control characters are exactly what is refused
const FORBIDDEN_RAW = /[\s\\\0-\x1f\x7f#]/;

/**
 * Compiles a target config into a resolver over the request's URL and headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTarget } from "./target.ts";
 *
 * const resolve = compileTarget({ header: "x-inf-target-url", hosts: ["api.inference.sh"] });
 * const url = new URL("http://gateway/api/inference/proxy");
 *
 * const named = new Headers({ "x-inf-target-url": "https://api.inference.sh/apps/run" });
 * const result = resolve(url, named);
 * assert.ok(result.ok && result.url.host === "api.inference.sh");
 *
 * const elsewhere = resolve(url, new Headers({ "x-inf-target-url": "https://evil.example/" }));
 * assert.ok(!elsewhere.ok && elsewhere.status === 403);
 * ```
 */
export function compileTarget(
  config: TargetConfig,
): (url: URL, headers: Headers) => TargetResult {
  const rules = config.hosts.map(parseHostRule);
  const header = config.header?.toLowerCase();
  const query = config.query;
  const names = [header && `the ${header} header`, query && `the ${query} query parameter`]
    .filter(Boolean).join(" or ");
  return (requestUrl, headers) => {
    let raw = header ? headers.get(header) : null;
    if (raw === null && query) raw = requestUrl.searchParams.get(query);
    if (raw === null || raw === "") {
      return { ok: false, status: 400, message: `Missing target URL: set ${names}` };
    }
    return checkTarget(raw, rules);
  };
}

function checkTarget(raw: string, rules: readonly HostRule[]): TargetResult {
  if (raw.length > 8192) return { ok: false, status: 400, message: "Target URL is too long" };
  if (FORBIDDEN_RAW.test(raw)) {
    return {
      ok: false,
      status: 400,
      message: "Target URL holds spaces, backslashes, control characters or a fragment",
    };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, status: 400, message: "Target URL does not parse" };
  }
  if (url.username !== "" || url.password !== "" || /^[a-z]+:\/\/[^/?]*@/i.test(raw)) {
    return { ok: false, status: 400, message: "Target URL must not carry credentials" };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    return { ok: false, status: 400, message: "Target URL must use https" };
  }
  // The host as written must be the host as parsed: no IP spellings, escapes or IDNA tricks.
  const written = /^[a-z]+:\/\/([^/?]*)([^?]*)/i.exec(raw);
  const writtenHost = written?.[1]?.toLowerCase();
  const defaultPort = url.protocol === "https:" ? "443" : "80";
  const normalisedWritten = writtenHost?.endsWith(`:${defaultPort}`)
    ? writtenHost.slice(0, -defaultPort.length - 1)
    : writtenHost;
  if (normalisedWritten !== url.host) {
    return { ok: false, status: 403, message: `Target host "${url.host}" is not allowed` };
  }
  if (!rules.some((rule) => hostMatches(rule, url.hostname, url.port))) {
    return { ok: false, status: 403, message: `Target host "${url.host}" is not allowed` };
  }
  return { ok: true, url, path: written?.[2] || "/" };
}

function hostMatches(rule: HostRule, hostname: string, port: string): boolean {
  if (rule.port !== port) return false;
  return rule.wildcard
    ? hostname.endsWith(rule.name) && hostname.length > rule.name.length
    : hostname === rule.name;
}
