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
 * isLoopback("127.0.0.1"); // true
 * isLoopback("[::1]"); // true
 * isLoopback("example.com"); // false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
