/**
 * Serves a handler on 127.0.0.1 at a free port, quietly.
 *
 * @module
 */

/** A loopback server. */
export interface LoopbackServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Host and port, e.g. `127.0.0.1:41234`. */
  host: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1 with a free port. */
export async function serveLoopback(handler: Deno.ServeHandler): Promise<LoopbackServer> {
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr) },
    handler,
  );
  const { port } = await ready.promise;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () => server.shutdown(),
  };
}
