/**
 * keyward as the benchmark runs it: `main.ts serve` in its own process (or several sharing a
 * port with `--reuse-port`), request log lines to /dev/null, and the time from spawn to the
 * first served request.
 *
 * @module
 */

import { freePort } from "./spawn.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running keyward process. */
export interface KeywardProcess {
  /** Base URL. */
  url: string;
  /** Process id. */
  pid: number;
  /** Milliseconds from spawn to the first 200 from `/healthz`. */
  startupMs: number;
  /** Stops it. */
  stop(): Promise<void>;
}

/**
 * The bench routes.yaml: `/openai` to the mock, after `decoys` other routes; with `usage`, the
 * route meters token usage as the provider presets do; with `labPort`, `/lab` to the lab
 * upstream's chunked SSE.
 */
export function benchConfig(
  mockPort: number,
  decoys = 0,
  usage = false,
  labPort?: number,
): string {
  const lines = ["routes:"];
  for (let i = 0; i < decoys; i++) {
    lines.push(
      `  - name: decoy${i}`,
      `    path: /decoy${i}`,
      `    upstream: http://127.0.0.1:${mockPort}`,
      `    key: { env: BENCH_KEY }`,
      `    allow: ["POST /v1/chat/completions"]`,
    );
  }
  lines.push(
    "  - name: openai",
    "    path: /openai",
    `    upstream: http://127.0.0.1:${mockPort}`,
    "    key: { env: BENCH_KEY }",
    '    allow: ["POST /v1/chat/completions", "POST /v1/stream"]',
  );
  // As the presets do: read token usage from every response (the JavaScript relay path).
  if (usage) lines.push("    usage: openai");
  if (labPort) {
    // A provider-like stream: chunked SSE events, usage metered as the presets do.
    lines.push(
      "  - name: lab",
      "    path: /lab",
      `    upstream: http://127.0.0.1:${labPort}`,
      "    key: { env: BENCH_KEY }",
      '    allow: ["POST /v1/events"]',
      "    usage: openai",
    );
  }
  return lines.join("\n") + "\n";
}

/** Where and how to start keyward. */
export interface StartOptions {
  /** The `main.ts` to run (this checkout's by default; another's for a baseline). */
  main?: string;
  /** Port to listen on (a free one by default). */
  port?: number;
  /** Extra `serve` arguments, e.g. `--reuse-port`. */
  args?: string[];
}

/** Starts keyward with `yaml` written to `dir`. */
export async function startKeyward(
  dir: string,
  yaml: string,
  options: StartOptions = {},
): Promise<KeywardProcess> {
  const config = `${dir}/routes-${crypto.randomUUID()}.yaml`;
  await Deno.writeTextFile(config, yaml);
  const port = options.port ?? freePort();
  const spawned = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys=hostname",
      options.main ?? MAIN,
      "serve",
      "--config",
      config,
      "--port",
      String(port),
      "--hostname",
      "127.0.0.1",
      ...(options.args ?? []),
    ],
    env: { BENCH_KEY: "sk-bench-key", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      const response = await fetch(`${url}/healthz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("keyward did not start within 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    url,
    pid: child.pid,
    startupMs: performance.now() - spawned,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** Peak resident memory of a process, in MB (VmHWM). */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
