/**
 * The client's side of a WebSocket handshake as the gateway reads it: whether a request asks
 * for a socket, which subprotocols it offers, which of those may go upstream, and which one
 * the `101` answer names.
 *
 * Subprotocols: a browser cannot set headers on a socket, so clients put their credentials in
 * subprotocols (`openai-insecure-api-key.<key>`) and so may pick the account a key bills
 * (`openai-organization.<id>`, `openai-project.<id>`). Those stay at the gateway; every other
 * offered name goes upstream. The `101` names the subprotocol the upstream chose, which
 * browsers and the provider SDKs require when they offered any.
 *
 * @module
 */

/** What a subprotocol starts with when it carries the client's token (the openai SDK's). */
export const TOKEN_PROTOCOL = "openai-insecure-api-key.";

/**
 * What the subprotocols that never go upstream start with: the client's token, and the
 * organization or project the key would bill (the key owner's to choose, in the config).
 */
export const KEPT_PROTOCOLS: readonly string[] = [
  TOKEN_PROTOCOL,
  "openai-organization.",
  "openai-project.",
];

/**
 * Whether a request asks to become a WebSocket (`Upgrade: websocket`).
 *
 * @example
 * ```ts
 * import { isWebSocketUpgrade } from "./websocket_handshake.ts";
 *
 * if (!isWebSocketUpgrade(new Headers({ upgrade: "WebSocket" }))) throw new Error("missed");
 * if (isWebSocketUpgrade(new Headers({ upgrade: "h2c" }))) throw new Error("not a socket");
 * ```
 */
export function isWebSocketUpgrade(headers: Headers): boolean {
  const upgrade = headers.get("upgrade");
  return upgrade !== null && /(?:^|,)\s*websocket\s*(?:,|$)/i.test(upgrade);
}

/**
 * The subprotocols an upgrade offers, in order (`Sec-WebSocket-Protocol`, comma-separated,
 * with or without spaces).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { offeredProtocols } from "./websocket_handshake.ts";
 *
 * const headers = new Headers({ "sec-websocket-protocol": "realtime,openai-beta.realtime-v1" });
 * assert.deepEqual(offeredProtocols(headers), ["realtime", "openai-beta.realtime-v1"]);
 * ```
 */
export function offeredProtocols(headers: Headers): string[] {
  const value = headers.get("sec-websocket-protocol");
  if (!value) return [];
  const offered: string[] = [];
  for (const part of value.split(",")) {
    const name = part.trim();
    if (name) offered.push(name);
  }
  return offered;
}

/**
 * Why a handshake cannot be accepted (RFC 6455 §4.2.1), or undefined when it can.
 *
 * @example
 * ```ts
 * import { handshakeProblem } from "./websocket_handshake.ts";
 *
 * const request = new Request("http://gateway/openai/v1/realtime", {
 *   headers: {
 *     upgrade: "websocket",
 *     connection: "Upgrade",
 *     "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "sec-websocket-version": "13",
 *   },
 * });
 * if (handshakeProblem(request) !== undefined) throw new Error("a good handshake");
 * ```
 */
export function handshakeProblem(request: Request): string | undefined {
  if (request.method !== "GET") return "A WebSocket handshake is a GET";
  const headers = request.headers;
  const connection = headers.get("connection");
  // Some servers consume `Connection` before the handler sees it; `Upgrade` is what is left.
  if (connection !== null && !/(?:^|,)\s*upgrade\s*(?:,|$)/i.test(connection)) {
    return "A WebSocket handshake needs Connection: Upgrade";
  }
  const key = headers.get("sec-websocket-key");
  if (key === null || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) {
    return "A WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64";
  }
  if (headers.get("sec-websocket-version")?.trim() !== "13") {
    return "This gateway speaks WebSocket version 13";
  }
  return undefined;
}

/**
 * The subprotocols that go upstream: the offered ones, in the client's order, but never a
 * credential or an account selector ({@linkcode KEPT_PROTOCOLS}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardedProtocols } from "./websocket_handshake.ts";
 *
 * const offered = ["realtime", "openai-insecure-api-key.tok", "openai-project.proj_1", "x-app.v2"];
 * assert.deepEqual(forwardedProtocols(offered), ["realtime", "x-app.v2"]);
 * ```
 */
export function forwardedProtocols(offered: readonly string[]): string[] {
  return offered.filter((name) => {
    const lower = name.toLowerCase();
    return !KEPT_PROTOCOLS.some((prefix) => lower.startsWith(prefix));
  });
}

/**
 * The subprotocol the `101` names: the upstream's choice when it made one (it can only pick
 * from what was forwarded, all of which the client offered). When it chose none but the
 * client offered some, a browser would fail the handshake, so the first offered name that
 * would go upstream is named. A token protocol is never named: a page that offers nothing but
 * its token gets a `101` naming none, which browsers refuse (offer `realtime` too, as the
 * openai SDK does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answeredProtocol } from "./websocket_handshake.ts";
 *
 * assert.equal(answeredProtocol("realtime", ["realtime", "openai-insecure-api-key.t"]), "realtime");
 * assert.equal(answeredProtocol("", []), "");
 * assert.equal(answeredProtocol("", ["openai-insecure-api-key.t"]), "");
 * ```
 */
export function answeredProtocol(upstream: string, offered: readonly string[]): string {
  if (upstream && offered.includes(upstream)) return upstream;
  return forwardedProtocols(offered)[0] ?? "";
}
