/**
 * How a key is put on the upstream request: a header with a format (`Bearer {key}`) or a
 * query parameter (Gemini's `?key=`).
 *
 * @module
 */
import type { HeaderRecord } from "../proxy/headers.ts";
import type { Secret } from "./secret.ts";

/** Puts a key on an outgoing request's headers (lower-case names) or URL. */
export type KeyInjector = (headers: HeaderRecord, url: URL, key: Secret) => void;

/** How a route injects its key. */
export interface InjectionConfig {
  /** Header name (lower case), when the key travels in a header. */
  header?: string;
  /** Header value template holding `{key}`. */
  format?: string;
  /** Query parameter name, when the key travels in the URL. */
  query?: string;
}

/**
 * Compiles an injection config into a function; the format is split once, here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileInjector } from "./inject.ts";
 * import { Secret } from "./secret.ts";
 *
 * const inject = compileInjector({ header: "authorization", format: "Bearer {key}" });
 * const headers: Record<string, string> = {};
 * const url = new URL("https://api.openai.com/v1/models");
 * inject(headers, url, new Secret("sk-1"));
 * assert.equal(headers.authorization, "Bearer sk-1");
 *
 * const gemini = compileInjector({ query: "key" });
 * gemini(headers, url, new Secret("AIza-1"));
 * assert.equal(url.searchParams.get("key"), "AIza-1");
 * ```
 */
export function compileInjector(config: InjectionConfig): KeyInjector {
  if (config.query) {
    const name = config.query;
    return (_headers, url, key) => url.searchParams.set(name, key.reveal());
  }
  const header = (config.header ?? "authorization").toLowerCase();
  const [before, after] = splitFormat(config.format ?? "Bearer {key}");
  return (headers, _url, key) => {
    headers[header] = before + key.reveal() + after;
  };
}

function splitFormat(format: string): [string, string] {
  const at = format.indexOf("{key}");
  return [format.slice(0, at), format.slice(at + "{key}".length)];
}

/** The header or query name that carries the key, so a client's own value can be dropped. */
export function injectionName(config: InjectionConfig): { header?: string; query?: string } {
  return config.query
    ? { query: config.query }
    : { header: (config.header ?? "authorization").toLowerCase() };
}
