/**
 * Runs `main.ts serve` as a real subprocess on a free loopback port, from YAML text, and
 * reads its port from the `listening` event it logs.
 *
 * @module
 */

/** A gateway running in its own process. */
export interface GatewayProcess {
  /** Base URL, e.g. `http://127.0.0.1:41236`. */
  url: string;
  /** The config file it serves (in a temp folder). */
  configPath: string;
  /** The process. */
  child: Deno.ChildProcess;
  /** Request log lines (stdout), parsed, as they arrive. */
  logs: Record<string, unknown>[];
  /** Event lines (stderr), parsed, as they arrive. */
  events: Record<string, unknown>[];
  /** Sends SIGTERM and waits for the exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function collect(stream: ReadableStream<Uint8Array>, into: Record<string, unknown>[]) {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        into.push(JSON.parse(line));
      } catch {
        into.push({ text: line });
      }
    }
  }
}

/**
 * Starts `deno run main.ts serve` on 127.0.0.1 with a temp config holding `yaml`; `args` are
 * added to the command line (a later `--port` wins).
 */
export async function startGatewayProcess(
  yaml: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<GatewayProcess> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-test-" });
  const configPath = `${dir}/routes.yaml`;
  await Deno.writeTextFile(configPath, yaml);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--config",
      configPath,
      "--port",
      "0",
      "--hostname",
      "127.0.0.1",
      ...args,
    ],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  const done = Promise.all([collect(child.stdout, logs), collect(child.stderr, events)]);
  const deadline = Date.now() + 20_000;
  let port: number | undefined;
  while (port === undefined) {
    const listening = events.find((e) => e.event === "listening");
    if (listening) port = listening.port as number;
    else if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Gateway did not start: ${JSON.stringify(events)}`);
    } else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    configPath,
    child,
    logs,
    events,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const status = await child.status;
      await done;
      await Deno.remove(dir, { recursive: true });
      return status;
    },
  };
}
