/**
 * A throwaway `redis-server` on 127.0.0.1 at a free port, with nothing saved to disk.
 *
 * @module
 */

/** A running Redis server. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Its port (to start another on, once this one is gone). */
  port: number;
  /** Kills the server at once (SIGKILL), as a crash would; its data is gone. */
  kill(): Promise<void>;
  /** Stops the server. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts `redis-server` (Debian's package; `.ci/run` installs it) on `port` (a free one by
 * default) and waits until it answers.
 */
export async function startRedis(port = freePort()): Promise<RedisServer> {
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      conn.close();
      if (n && new TextDecoder().decode(buffer.subarray(0, n)).startsWith("+PONG")) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error("redis-server did not start");
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  let exited = false;
  const end = async (signal: Deno.Signal) => {
    if (!exited) child.kill(signal);
    exited = true;
    await child.status;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
}
