/**
 * Loopback hosts: the only hosts keyward talks to over plain http.
 *
 * @module
 */

/**
 * Tells whether a URL hostname (as `URL.hostname` gives it) is a loopback address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./loopback.ts";
 *
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback(new URL("http://[::1]:8080").hostname), true);
 * assert.equal(isLoopback("example.com"), false);
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
