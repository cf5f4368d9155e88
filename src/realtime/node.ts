/**
 * Sessions on Node. Node hands a WebSocket handshake to the HTTP server's `upgrade` event,
 * never to a request handler: a framework's middleware (Express, Next.js, Remix, SvelteKit)
 * never sees it. The app hands the event to the gateway once:
 *
 * ```ts
 * import { createServer } from "node:http";
 * import { createGateway } from "../../mod.ts";
 *
 * const gateway = await createGateway("routes.yaml");
 * const server = createServer((req, res) => res.end("the app")); // or Express's app.listen()
 * server.on("upgrade", gateway.upgrade);
 * if (import.meta.main) server.listen(3000);
 * ```
 *
 * The gateway takes only upgrades to a path one of its routes serves; any other is left for
 * the app's other `upgrade` listeners (a dev server's hot reload, socket.io). A handshake it
 * refuses is answered with its JSON error on the raw socket. Sockets are npm `ws`'s.
 *
 * @module
 */
import type { HeaderRecord } from "../proxy/headers.ts";
import { ACCEPTOR, type Acceptor, PendingLink } from "./accept.ts";

/** Node's `IncomingMessage`, as far as an upgrade is read. */
export interface NodeUpgradeRequest {
  /** Method. */
  method?: string;
  /** Path and query. */
  url?: string;
  /** Headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** Headers as sent, name and value alternating. */
  rawHeaders: string[];
}

/** Node's socket (a `stream.Duplex`) under an upgrade. */
export interface NodeUpgradeSocket {
  /** The peer's address. */
  remoteAddress?: string;
  /** Writes bytes. */
  write(data: string | Uint8Array): boolean;
  /** Ends the stream. */
  end(): void;
  /** Destroys the stream. */
  destroy(): void;
}

/** The `upgrade` listener: `server.on("upgrade", listener)`. */
export type NodeUpgradeListener = (
  request: NodeUpgradeRequest,
  socket: NodeUpgradeSocket,
  head: Uint8Array,
) => void;

/** npm `ws`'s server socket, as a session uses it. */
interface WsServerSocket {
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  on(event: "message", listener: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number, reason: Uint8Array) => void): void;
  on(event: "error", listener: () => void): void;
}

/** npm `ws`'s `WebSocketServer` in `noServer` mode. */
interface WsServer {
  handleUpgrade(
    request: NodeUpgradeRequest,
    socket: NodeUpgradeSocket,
    head: Uint8Array,
    done: (ws: WsServerSocket) => void,
  ): void;
  on(event: "headers", listener: (headers: string[], request: NodeUpgradeRequest) => void): void;
}

/** What a refused handshake's reason phrase says. */
const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Payload Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const decoder = new TextDecoder();

/** What the acceptor decided for one handshake (read back by the `ws` server's hooks). */
interface Choice {
  protocol: string;
  headers: HeaderRecord;
}

let server: Promise<{ wss: WsServer; choices: WeakMap<NodeUpgradeRequest, Choice> }> | undefined;

/** One `ws` server for every upgrade the gateway accepts on Node. */
function wsServer() {
  return server ??= import("ws").then((mod) => {
    const Server = (mod.WebSocketServer ?? (mod.default as { Server?: unknown }).Server) as new (
      options: Record<string, unknown>,
    ) => WsServer;
    const choices = new WeakMap<NodeUpgradeRequest, Choice>();
    const wss = new Server({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: 64 * 1024 * 1024,
      handleProtocols: (_offered: Set<string>, request: NodeUpgradeRequest) =>
        choices.get(request)?.protocol || false,
    });
    wss.on("headers", (headers, request) => {
      const extra = choices.get(request)?.headers ?? {};
      for (const name in extra) headers.push(`${name}: ${extra[name]}`);
    });
    return { wss, choices };
  });
}

/** Writes `response` on a raw socket as an HTTP/1.1 answer, then closes it. */
async function refuse(socket: NodeUpgradeSocket, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? "Error"}\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") head += `${name}: ${value}\r\n`;
  });
  head += `content-length: ${body.byteLength}\r\nconnection: close\r\n\r\n`;
  socket.write(head);
  if (body.byteLength) socket.write(body);
  socket.end();
}

/**
 * The `upgrade` listener for a gateway whose `fetch` takes an environment (the second
 * argument), and that `handles` the paths of its routes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * import { nodeUpgradeListener } from "./node.ts";
 *
 * // a stand-in for the gateway: it refuses every handshake
 * const gateway = () => Promise.resolve(Response.json({ error: "no" }, { status: 403 }));
 * const server = createServer((_req, res) => res.end("plain"));
 * server.on("upgrade", nodeUpgradeListener(gateway, (path) => path.startsWith("/openai/")));
 * await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
 * const { port } = server.address() as { port: number };
 * const answer = await fetch(`http://127.0.0.1:${port}/openai/v1/realtime`, {
 *   headers: { connection: "Upgrade", upgrade: "websocket" },
 * }).catch(() => undefined);
 * assert.equal(answer?.status, 403);
 * await answer?.body?.cancel();
 * await new Promise((closed) => server.close(closed));
 * ```
 */
export function nodeUpgradeListener(
  fetch: (request: Request, env: unknown) => Promise<Response>,
  handles: (path: string) => boolean,
): NodeUpgradeListener {
  return (request, socket, head) => {
    const host = request.headers.host ?? "localhost";
    const url = new URL(request.url ?? "/", `http://${host}`);
    if (!handles(url.pathname)) return;
    const headers = new Headers();
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
    const taken = new WeakSet<Response>();
    const acceptor: Acceptor = {
      accept(_request, protocol, extra) {
        const link = new PendingLink();
        const bind = (ws: WsServerSocket) => {
          ws.on(
            "message",
            (data, isBinary) => link.events.message(isBinary ? data : decoder.decode(data)),
          );
          ws.on("close", (code, reason) => link.events.closed(code, decoder.decode(reason)));
          ws.on("error", () => {});
          link.open({
            send: (data) => ws.send(data),
            close: (code, reason) => ws.close(code, reason),
            buffered: () => ws.bufferedAmount,
          });
        };
        const response = new Response(null);
        taken.add(response);
        void wsServer().then(({ wss, choices }) => {
          choices.set(request, { protocol, headers: extra });
          wss.handleUpgrade(request, socket, head, bind);
        }, () => {
          socket.destroy();
          link.close(1011, "");
        });
        return { response, link };
      },
    };
    const env = { remoteAddr: { hostname: socket.remoteAddress }, [ACCEPTOR]: acceptor };
    const web = new Request(url, { method: request.method ?? "GET", headers });
    void fetch(web, env).then(
      (response) => taken.has(response) ? undefined : refuse(socket, response),
      () => socket.destroy(),
    ).catch(() => socket.destroy());
  };
}
