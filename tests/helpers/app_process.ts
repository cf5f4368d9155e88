/**
 * An app in a child process (Node or Bun) that prints `{"listening": port}` on standard
 * output once it serves (or, for a server started on a given port, a line matching `ready`);
 * its other output lines (keyward's request log) are kept, parsed.
 *
 * @module
 */

/** A running app. */
export interface AppProcess {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** JSON lines it wrote on standard output, after the listening line. */
  logs: Record<string, unknown>[];
  /** Everything it wrote on standard error. */
  stderr(): string;
  /** True while the process runs. */
  alive(): Promise<boolean>;
  /** Sends SIGTERM and waits for it to end. */
  stop(): Promise<void>;
}

/** How a server that does not print `{"listening": port}` says it is ready. */
export interface ReadyLine {
  /** The port it was told to listen on. */
  port: number;
  /** A line it prints once it serves. */
  ready: RegExp;
}

/** Starts `cmd args` in `cwd` with exactly `env`, and waits for its listening line. */
export async function startApp(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
  readyLine?: ReadyLine,
): Promise<AppProcess> {
  const child = new Deno.Command(cmd, {
    args: [...args],
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let errors = "";
  const draining = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) errors += text;
  })();
  const logs: Record<string, unknown>[] = [];
  const port = Promise.withResolvers<number>();
  const reading = (async () => {
    let pending = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += text;
      let newline;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = { text: line };
        }
        if (typeof parsed.listening === "number") port.resolve(parsed.listening);
        else if (readyLine?.ready.test(line)) port.resolve(readyLine.port);
        else logs.push(parsed);
      }
    }
    port.reject(new Error(`The app exited before listening: ${errors}`));
  })();
  const timeout = setTimeout(
    () => port.reject(new Error("The app did not listen in 20 s")),
    20_000,
  );
  let listening: number;
  try {
    listening = await port.promise;
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await Promise.all([status, reading, draining]);
    throw error;
  } finally {
    clearTimeout(timeout);
  }
  return {
    url: `http://127.0.0.1:${listening}`,
    logs,
    stderr: () => errors,
    alive: async () => {
      // Whatever was scheduled after the last answer (the log flush among it) has run.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return !exited;
    },
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      // A server that does not end on SIGTERM within 5 s is killed.
      const stuck = setTimeout(() => !exited && child.kill("SIGKILL"), 5_000);
      await Promise.all([status, reading, draining]);
      clearTimeout(stuck);
    },
  };
}
