/**
 * The client's address, the identity of `auth: none` routes. Forwarding headers count only
 * when `server.trust_forwarded` says a proxy in front sets them; then the address that proxy
 * saw (the last entry, which a client cannot forge) is used.
 *
 * @module
 */

/** What `Deno.serve` passes its handler; adapters pass the same shape when they know it. */
export interface ConnInfo {
  /** The peer's address: `{ hostname }` for TCP, other shapes (Unix sockets) carry none. */
  remoteAddr?: object;
}

function lastForwardedFor(header: string): string | undefined {
  const parts = header.split(",");
  for (let i = parts.length - 1; i >= 0; i--) {
    const value = parts[i].trim();
    if (value) return value;
  }
  return undefined;
}

function lastForwarded(header: string): string | undefined {
  const elements = header.split(",");
  for (let i = elements.length - 1; i >= 0; i--) {
    const match = /(?:^|;)\s*for=("?)\[?([^\]";]+)\]?\1/i.exec(elements[i]);
    if (match) return match[2].trim();
  }
  return undefined;
}

/**
 * Returns the client address of a request: the peer's, or when `trustForwarded` is set, the
 * last hop of `Forwarded` or `X-Forwarded-For`, then `X-Real-IP`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddress } from "./client_ip.ts";
 *
 * const request = new Request("http://gateway/openai/v1/models", {
 *   headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.7" },
 * });
 * const info = { remoteAddr: { transport: "tcp", hostname: "10.0.0.2", port: 50123 } };
 * assert.equal(clientAddress(request, info, false), "10.0.0.2"); // the peer
 * assert.equal(clientAddress(request, info, true), "203.0.113.7"); // what the proxy saw
 * ```
 */
export function clientAddress(
  request: Request,
  info: ConnInfo | undefined,
  trustForwarded: boolean,
): string {
  if (trustForwarded) {
    const headers = request.headers;
    const forwarded = headers.get("forwarded");
    const fromForwarded = forwarded ? lastForwarded(forwarded) : undefined;
    if (fromForwarded) return fromForwarded;
    const xff = headers.get("x-forwarded-for");
    const fromXff = xff ? lastForwardedFor(xff) : undefined;
    if (fromXff) return fromXff;
    const real = headers.get("x-real-ip")?.trim();
    if (real) return real;
  }
  const hostname = (info?.remoteAddr as { hostname?: unknown } | undefined)?.hostname;
  return typeof hostname === "string" && hostname ? hostname : "unknown";
}
