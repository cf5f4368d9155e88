/**
 * Bench processes: a free loopback port, and a command started and waited for until it
 * accepts connections on its port.
 *
 * @module
 */

/** A free port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A bench process listening on a loopback port. */
export interface Listening {
  /** Its port. */
  port: number;
  /** Its process id. */
  pid: number;
  /** Stops it (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs `command args` with `env`, and resolves once something accepts connections on `port`
 * (within 10 s).
 */
export async function startListening(
  name: string,
  command: string,
  args: string[],
  port: number,
  env: Record<string, string> = {},
): Promise<Listening> {
  const child = new Deno.Command(command, { args, env, stdout: "null", stderr: "inherit" })
    .spawn();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        await child.status;
        throw new Error(`${name} did not start`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}
