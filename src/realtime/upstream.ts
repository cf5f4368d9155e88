/**
 * The gateway's socket to the provider: opened with the key in a header and the subprotocols
 * the client may forward, before the client's `101` is sent (so the `101` can name the
 * subprotocol the upstream chose, and a provider that refuses the handshake is still an HTTP
 * answer).
 *
 * The client is npm `ws`, on every runtime that has it: it sends each frame at once (Deno's
 * own WebSocket client leaves Nagle's algorithm on, which holds frames of 4 to 32 KB, the size
 * of audio chunks, for about 40 ms each), sends any close code, and can stop reading a
 * provider while the client is behind (`pause`). Where `ws` cannot be loaded, the runtime's
 * `WebSocket` with a `headers` option (Deno, Bun) stands in.
 *
 * Frames that arrive before the session takes the socket over (they can come in the same read
 * as the provider's `101`) are kept and handed over first.
 *
 * @module
 */
import { deferred } from "../deferred.ts";
import type { HeaderRecord } from "../proxy/headers.ts";
import { PendingEvents, type SocketEvents } from "./socket_events.ts";
import { concatBytes } from "../bytes.ts";

/** What a session hears from its upstream. */
export type UpstreamEvents = SocketEvents;

/** An open socket to the upstream. */
export interface UpstreamLink {
  /** The subprotocol the upstream chose (`""` for none). */
  readonly protocol: string;
  /** Sends a frame: a string as text, bytes as binary. */
  send(data: string | Uint8Array): void;
  /** Closes the socket (a code the client role may not send becomes 1000). */
  close(code: number, reason: string): void;
  /** Bytes queued towards the upstream and not yet written. */
  buffered(): number;
  /** Stops reading from the upstream (its frames wait in its own buffers), where possible. */
  pause?(): void;
  /** Reads again after {@linkcode UpstreamLink.pause}. */
  resume?(): void;
  /** Hands the socket's events to `events`, first those that came before. */
  attach(events: UpstreamEvents): void;
}

/** How to open the upstream socket. */
export interface UpstreamInit {
  /** Request headers (the key among them). */
  headers: HeaderRecord;
  /** Subprotocols to offer. */
  protocols: string[];
  /** How long the handshake may take, in ms. */
  timeoutMs: number;
  /** The largest frame accepted from the upstream, in bytes. */
  maxPayload: number;
}

/** The upstream refused the handshake or could not be reached. */
export interface UpstreamFailed {
  /** What went wrong. */
  outcome: "upstream_unreachable" | "upstream_timeout";
  /** The HTTP status the upstream answered the handshake with, if it answered one. */
  status?: number;
  /** Its content type. */
  contentType?: string;
  /** Its body, up to 64 KiB (to be redacted before the client sees it). */
  body?: Uint8Array<ArrayBuffer>;
  /** True when the body went on past what was read. */
  cut?: boolean;
  /** The error's name, for the log. */
  cause?: string;
}

/** Opens a socket: the link once open, or why not. */
export type UpstreamOpener = (
  url: string,
  init: UpstreamInit,
) => Promise<UpstreamLink | UpstreamFailed>;

/** The part of npm `ws`'s WebSocket the gateway uses. */
interface WsSocket {
  readonly protocol: string;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: "open", listener: () => void): void;
  on(event: "message", listener: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number, reason: Uint8Array) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(
    event: "unexpected-response",
    listener: (request: { destroy(): void }, response: NodeResponseLike) => void,
  ): void;
}

/** Node's `IncomingMessage`, as far as a refused handshake's answer is read. */
interface NodeResponseLike {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "end" | "error" | "close", listener: () => void): void;
  destroy(): void;
}

type WsConstructor = new (
  url: string,
  protocols: string[],
  options: Record<string, unknown>,
) => WsSocket;

/** The most of a refused handshake's body that is read. */
const REFUSAL_BYTES = 64 * 1024;
const decoder = new TextDecoder();

let wsClass: Promise<WsConstructor | undefined> | undefined;

/** npm `ws`'s WebSocket class, loaded once; undefined where it cannot be loaded. */
function loadWs(): Promise<WsConstructor | undefined> {
  return wsClass ??= import("ws").then(
    (mod) => (mod.WebSocket ?? mod.default) as unknown as WsConstructor,
    () => undefined,
  );
}

/** Codes the client role may send: npm `ws` checks RFC 6455's list; 1000 stands in. */
function clientRoleCode(code: number): number {
  const valid = (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 &&
    code !== 1006) || (code >= 3000 && code <= 4999);
  return valid ? code : 1000;
}

/**
 * Opens the upstream socket with npm `ws` (or the runtime's `WebSocket` where `ws` is
 * missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openUpstream } from "./upstream.ts";
 *
 * // a stand-in provider on loopback that echoes what it gets
 * const provider = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   socket.onmessage = (event) => socket.send(`echo: ${event.data}`);
 *   return response;
 * });
 * const url = `ws://127.0.0.1:${provider.addr.port}/v1/realtime`;
 * const link = await openUpstream(url, {
 *   headers: { authorization: "Bearer sk-live" },
 *   protocols: [],
 *   timeoutMs: 5_000,
 *   maxPayload: 1 << 20,
 * });
 * if (!("send" in link)) throw new Error("not open");
 * const echoed = new Promise<string | Uint8Array>((resolve) =>
 *   link.attach({ message: resolve, closed: () => {} })
 * );
 * link.send("hi");
 * assert.equal(await echoed, "echo: hi");
 * link.close(1000, "done");
 * await provider.shutdown();
 * ```
 */
export async function openUpstream(
  url: string,
  init: UpstreamInit,
): Promise<UpstreamLink | UpstreamFailed> {
  const Ws = await loadWs();
  return Ws ? openWithWs(Ws, url, init) : openNative(url, init);
}

function openWithWs(
  Ws: WsConstructor,
  url: string,
  init: UpstreamInit,
): Promise<UpstreamLink | UpstreamFailed> {
  const { promise, resolve } = deferred<UpstreamLink | UpstreamFailed>();
  let socket: WsSocket;
  try {
    socket = new Ws(url, init.protocols, {
      headers: init.headers,
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: init.maxPayload,
      handshakeTimeout: init.timeoutMs,
    });
  } catch (error) {
    return Promise.resolve({ outcome: "upstream_unreachable", cause: (error as Error).name });
  }
  const early = new PendingEvents();
  let open = false;
  socket.on("open", () => {
    open = true;
    resolve({
      protocol: socket.protocol ?? "",
      send: (data) => socket.send(data),
      close: (code, reason) => {
        try {
          socket.close(clientRoleCode(code), reason);
        } catch {
          socket.terminate();
        }
      },
      buffered: () => socket.bufferedAmount,
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      attach: (events) => early.attach(events),
    });
  });
  socket.on("message", (data, isBinary) => {
    early.message(isBinary ? data : decoder.decode(data));
  });
  socket.on("close", (code, reason) => {
    if (open) early.closed(code, decoder.decode(reason));
  });
  socket.on("error", (error) => {
    if (open) return; // a close follows
    const timedOut = /timed? ?out/i.test(error.message);
    resolve({
      outcome: timedOut ? "upstream_timeout" : "upstream_unreachable",
      cause: timedOut ? "Timeout" : (error as { code?: string }).code ?? error.name,
    });
  });
  socket.on("unexpected-response", (request, response) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let done = false;
    let cut = false;
    const finish = () => {
      if (done) return;
      done = true;
      request.destroy();
      const body = concatBytes(chunks);
      const type = response.headers["content-type"];
      resolve({
        outcome: "upstream_unreachable",
        status: response.statusCode,
        contentType: Array.isArray(type) ? type[0] : type,
        body,
        cut,
        cause: `HTTP ${response.statusCode}`,
      });
    };
    response.on("data", (chunk) => {
      const room = REFUSAL_BYTES - size;
      if (chunk.byteLength > room) cut = true;
      if (room <= 0) return finish();
      const part = chunk.subarray(0, room);
      chunks.push(part);
      size += part.byteLength;
    });
    response.on("end", finish);
    response.on("close", finish);
    response.on("error", finish);
  });
  return promise;
}

/** The runtime's own WebSocket, with headers (Deno 2.5+, Bun). */
function openNative(url: string, init: UpstreamInit): Promise<UpstreamLink | UpstreamFailed> {
  const { promise, resolve } = deferred<UpstreamLink | UpstreamFailed>();
  const Native = globalThis.WebSocket as unknown as new (
    url: string,
    options: { headers: HeaderRecord; protocols: string[] },
  ) => WebSocket;
  let socket: WebSocket;
  try {
    socket = new Native(url, { headers: init.headers, protocols: init.protocols });
  } catch (error) {
    return Promise.resolve({ outcome: "upstream_unreachable", cause: (error as Error).name });
  }
  socket.binaryType = "arraybuffer";
  const early = new PendingEvents();
  let open = false;
  const timer = setTimeout(() => {
    if (open) return;
    resolve({ outcome: "upstream_timeout", cause: "Timeout" });
    socket.close();
  }, init.timeoutMs);
  socket.onopen = () => {
    open = true;
    clearTimeout(timer);
    resolve({
      protocol: socket.protocol,
      send: (data) => socket.send(data),
      // The runtime's client role sends only 1000 and 3000-4999.
      close: (code, reason) => {
        const sendable = code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
        try {
          socket.close(sendable, reason);
        } catch {
          socket.close();
        }
      },
      buffered: () => socket.bufferedAmount,
      attach: (events) => early.attach(events),
    });
  };
  socket.onmessage = (event) => {
    const data = event.data;
    early.message(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  };
  socket.onclose = (event) => {
    if (open) early.closed(event.code, event.reason);
    else {
      clearTimeout(timer);
      resolve({ outcome: "upstream_unreachable", cause: "Refused" });
    }
  };
  socket.onerror = () => {};
  return promise;
}
