/**
 * Node's `req`/`res` to a web `Request` and back, streaming both ways, for Express and the
 * Next.js Pages Router. A client that hangs up aborts the request and cancels the response.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ConnInfo } from "../auth/client_ip.ts";

/** A Node request as Express or Next.js hand it over, maybe with a parsed body. */
export type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

/** The body to send on, and whether it was re-encoded from what a body parser left. */
function bodyOf(req: NodeRequest): { body: BodyInit | null; reencoded: boolean } {
  if (req.method === "GET" || req.method === "HEAD") return { body: null, reencoded: false };
  // A body parser ran before us: the stream is spent, so send what it parsed.
  if (req.body !== undefined && req.readableEnded) {
    const body = req.body;
    if (typeof body === "string") return { body, reencoded: false };
    if (body instanceof Uint8Array) return { body: new Uint8Array(body), reencoded: false };
    return { body: JSON.stringify(body), reencoded: true };
  }
  return {
    body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>,
    reencoded: false,
  };
}

/**
 * Builds a web `Request` from a Node request; `signal` aborts it when the client goes away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * import { toRequest } from "./node_bridge.ts";
 *
 * const server = createServer((req, res) => {
 *   const request = toRequest(req, new AbortController().signal);
 *   res.end(`${request.method} ${new URL(request.url).pathname}`);
 * });
 * await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
 * const { port } = server.address() as { port: number };
 * const answer = await fetch(`http://127.0.0.1:${port}/v1/models`);
 * assert.equal(await answer.text(), "GET /v1/models");
 * await new Promise((closed) => server.close(closed));
 * ```
 */
export function toRequest(req: NodeRequest, signal: AbortSignal): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const host = req.headers.host ?? "localhost";
  const url = new URL(req.originalUrl ?? req.url ?? "/", `http://${host}`);
  const { body, reencoded } = bodyOf(req);
  if (reencoded) {
    headers.delete("content-length");
    headers.set("content-type", "application/json");
  }
  return new Request(url, {
    method: req.method,
    headers,
    body,
    signal,
    // @ts-ignore: duplex is required by fetch for streamed bodies but missing from RequestInit
    duplex: "half",
  });
}

/**
 * Writes a web `Response` to a Node response, chunk by chunk and flushed (through
 * `res.flush()` too, when compression middleware added it), honouring back-pressure; cancels
 * the body when the client hangs up. A body that fails mid-stream destroys the socket, so the
 * response is cut without its last chunk rather than ended.
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader("set-cookie", cookies);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  const closed = () => void reader.cancel().catch(() => {});
  res.once("close", closed);
  // Writes not yet handed to the socket: a cut waits for them (the last is its error event).
  const writes = new Unsent();
  let cut = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      writes.count++;
      const drained = res.write(value, writes.sent);
      // compression() (Express, Next's Pages Router) holds bytes in zlib until flushed.
      (res as { flush?: () => void }).flush?.();
      if (!drained) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
      if (res.destroyed) break;
    }
  } catch {
    // The client went away, or the body failed mid-stream (a stream the upstream broke off):
    // nothing more can be sent, and what was sent must not look complete.
    cut = true;
  } finally {
    res.off("close", closed);
    if (cut && !res.destroyed) {
      // What was written goes out first; then destroying the socket leaves the response
      // without its last chunk (or short of its length): the client sees a network error, as
      // behind nginx, not a clean end.
      await writes.flushed(CUT_FLUSH_MS);
      res.destroy();
    } else if (!cut) res.end();
  }
}

/** The longest a cut response waits for its written bytes to reach the socket. */
const CUT_FLUSH_MS = 1000;

/** Counts a response's writes until the socket has taken them. */
class Unsent {
  count = 0;
  #waiting?: () => void;

  /** The write callback: one more write reached the socket. Bound once. */
  readonly sent = (): void => {
    if (--this.count === 0) this.#waiting?.();
  };

  /** Resolves when every write reached the socket, or after `ms`. */
  flushed(ms: number): Promise<void> {
    if (this.count <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiting = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * Serves a Node request through a fetch handler and writes its response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * import { serveNode } from "./node_bridge.ts";
 *
 * // a stand-in for `gateway.fetch`
 * const handle = (request: Request) => {
 *   return Promise.resolve(new Response(new URL(request.url).pathname));
 * };
 * const server = createServer((req, res) => serveNode(req, res, handle));
 * await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
 * const { port } = server.address() as { port: number };
 * const answer = await fetch(`http://127.0.0.1:${port}/openai/v1/models`);
 * assert.equal(await answer.text(), "/openai/v1/models");
 * await new Promise((closed) => server.close(closed));
 * ```
 */
export async function serveNode(
  req: NodeRequest,
  res: ServerResponse,
  handle: (request: Request, info?: ConnInfo) => Promise<Response>,
): Promise<void> {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const info = { remoteAddr: { hostname: req.socket?.remoteAddress } };
  const response = await handle(toRequest(req, controller.signal), info);
  await writeResponse(res, response);
}
