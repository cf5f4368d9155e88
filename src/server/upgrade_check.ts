/**
 * Whether an upgraded WebSocket stays open on the standalone server's own listener, found out
 * by trying it once per process on loopback.
 *
 * The listener serves each connection with Deno's per-connection HTTP server
 * (`serveHttpOnConnection`, see `http.ts`). In Deno 2.9 that server closes itself as soon as
 * its one connection has been upgraded, and closing it closes every WebSocket it upgraded: the
 * socket opens and is gone at once (the server sees close 1005, the client 1006). Where that
 * is so (or where the process may not listen on loopback to find out: a binary locked to its
 * config), the standalone server serves a config with WebSocket routes with plain `Deno.serve`
 * instead, which keeps sockets open but has neither header nor idle timeouts and stops
 * accepting when file descriptors run out (`http.ts` restarts it). A Deno that keeps
 * upgraded sockets open passes this check, and gets the protected listener back.
 *
 * @module
 */

type ServeOnConnection = (
  connection: Deno.Conn,
  signal: AbortSignal,
  handler: Deno.ServeHandler,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => Deno.HttpServer;

/** How long the check waits for the socket to carry a frame after it opened. */
const CHECK_MS = 2_000;

let checked: Promise<boolean> | undefined;

/**
 * Whether a WebSocket upgraded on `serveHttpOnConnection` stays open long enough to carry a
 * frame: true on a Deno without the problem, false with it, where the per-connection server
 * is missing, or where the check cannot listen on loopback. Run once per process.
 *
 * @example
 * ```ts
 * import { upgradesSurvivePerConnection } from "./upgrade_check.ts";
 *
 * const survive = await upgradesSurvivePerConnection(); // false on Deno 2.9
 * console.log(survive ? "protected listener" : "plain Deno.serve for WebSocket routes");
 * ```
 */
export function upgradesSurvivePerConnection(): Promise<boolean> {
  return checked ??= check().catch(() => false);
}

async function check(): Promise<boolean> {
  let serveOn: ServeOnConnection | undefined;
  try {
    // deno-lint-ignore no-explicit-any
    const fn = (Deno as any)[(Deno as any).internal]?.serveHttpOnConnection;
    if (typeof fn === "function" && fn.length === 5) serveOn = fn;
  } catch {
    return false;
  }
  if (!serveOn) return false;
  // Never a permission prompt: without loopback, the check is not made (and fails).
  const loopback = Deno.permissions.querySync?.({ name: "net", host: "127.0.0.1" });
  if (loopback && loopback.state !== "granted") return false;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const abort = new AbortController();
  const accepted = listener.accept().then((conn) =>
    serveOn!(conn, abort.signal, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      // A frame sent a moment after opening: it arrives only if the socket outlived the open.
      socket.onopen = () =>
        setTimeout(() =>
          socket.readyState === 1 && socket.send("ok"), 50);
      socket.onerror = () => {};
      return response;
    }, () =>
      new Response(null, { status: 500 }), () => {})
  ).catch(() => undefined);
  const client = new WebSocket(`ws://127.0.0.1:${listener.addr.port}/`);
  const result = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => result.resolve(false), CHECK_MS);
  client.onmessage = (event) => result.resolve(event.data === "ok");
  client.onclose = () => result.resolve(false);
  client.onerror = () => result.resolve(false);
  const survived = await result.promise;
  clearTimeout(timer);
  try {
    client.close();
  } catch {
    // closed already
  }
  listener.close();
  // The connection's server ends with its socket (aborting it after that would throw).
  const server = await accepted;
  let wait: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    server?.finished.catch(() => {}),
    new Promise((resolve) => wait = setTimeout(resolve, CHECK_MS)),
  ]);
  clearTimeout(wait);
  return survived;
}
