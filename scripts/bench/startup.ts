/**
 * Startup, as a bench row: the time from spawning a process to its first 200 from `/healthz`,
 * for a bare `Deno.serve` hello world (the floor) and for `main.ts` serving the shipped
 * routes.yaml, once with `-A` and once with the permissions `deno task start` grants. The
 * processes are started in turn, round after round (the order rotating), so a slow moment on
 * the machine falls on all of them; each figure is a median over the rounds, and the ratio to
 * the hello world is the median of each round's own ratio.
 *
 * The measuring process polls `/healthz` with `fetch` every millisecond; one warm-up round
 * (not counted) fills Deno's code cache first. Beside the wall time, the CPU time the process
 * had used by then (all its threads, from `/proc/PID/task/TID/schedstat` on Linux) is the
 * figure that hardly moves when other work shares the machine.
 *
 * Run alone: `deno run -A scripts/bench/startup.ts [--runs N]` (15 by default).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freePort } from "./spawn.ts";
import { median } from "./table.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const HELLO = new URL("./hello.ts", import.meta.url).pathname;
const START_PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-sys=hostname"];

/** One process the startup row times. */
export interface StartupTarget {
  /** Its name in the table. */
  name: string;
  /** `deno` arguments, with `{port}` standing for the port it must listen on. */
  args: string[];
  /** Where it runs (this checkout by default: `main.ts` serves its routes.yaml). */
  cwd?: string;
}

/**
 * The keyward targets of another checkout at `dir` (a baseline to compare against), named
 * with `label`.
 */
export function baselineTargets(dir: string, label: string): StartupTarget[] {
  return [{
    name: `keyward, -A (${label})`,
    args: ["run", "-A", "main.ts", "--port", "{port}"],
    cwd: dir,
  }];
}

/** The three the bench compares: the hello world, then keyward as `-A` and as `deno task start`. */
export const STARTUP_TARGETS: readonly StartupTarget[] = [
  { name: "Deno.serve hello world", args: ["run", "-A", HELLO, "{port}"] },
  { name: "keyward, -A", args: ["run", "-A", "main.ts", "--port", "{port}"] },
  {
    name: "keyward, deno task start",
    args: ["run", ...START_PERMISSIONS, "main.ts", "--port", "{port}"],
  },
];

/** One start: wall milliseconds to the first 200, and the CPU milliseconds used by then. */
export interface StartupRun {
  /** Spawn to the first 200 from `/healthz`. */
  ms: number;
  /** CPU time of the process's threads at that moment (undefined where /proc is missing). */
  cpuMs?: number;
}

/** CPU time of a process's live threads so far, in ms (Linux), from their schedstat. */
export function threadCpuMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    }
    return ns / 1e6;
  } catch {
    return undefined;
  }
}

/**
 * Spawns `deno args` in the repository (so `main.ts` finds routes.yaml) and times it until
 * `/healthz` first answers 200, polling every millisecond for at most `timeoutMs`. The
 * process is stopped before this returns.
 */
export async function timeToHealthy(
  target: StartupTarget,
  timeoutMs = 30_000,
): Promise<StartupRun> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}/healthz`;
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.PORT;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: target.args.map((arg) => arg === "{port}" ? String(port) : arg),
    cwd: target.cwd ?? ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((status) => (exited = true, status));
  try {
    while (true) {
      try {
        const response = await fetch(url);
        await response.body?.cancel();
        if (response.ok) {
          const ms = performance.now() - started;
          return { ms, cpuMs: threadCpuMs(child.pid) };
        }
      } catch {
        // not listening yet
      }
      if (exited) {
        const { code } = await status;
        throw new Error(`${target.name} exited with ${code} before answering:\n${await stderr}`);
      }
      if (performance.now() - started > timeoutMs) {
        throw new Error(`${target.name} did not answer /healthz within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    if (!exited) child.kill("SIGKILL");
    await status;
    await stderr;
  }
}

/** The runs of each target, one entry per counted round. */
export type StartupTimes = Map<string, StartupRun[]>;

/** Times each target `runs` times (plus one warm-up round), rotating the order every round. */
export async function measureStartup(
  runs: number,
  targets: readonly StartupTarget[] = STARTUP_TARGETS,
  progress: (line: string) => void = () => {},
): Promise<StartupTimes> {
  const times: StartupTimes = new Map(targets.map((t) => [t.name, []]));
  for (let round = -1; round < runs; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(Math.max(round, 0) + i) % targets.length];
      const run = await timeToHealthy(target);
      if (round < 0) continue; // warm-up: the code cache is filled
      times.get(target.name)!.push(run);
      progress(
        `startup round ${round + 1}: ${target.name} ${run.ms.toFixed(1)} ms` +
          (run.cpuMs === undefined ? "" : `, ${run.cpuMs.toFixed(1)} ms CPU`),
      );
    }
  }
  return times;
}

/**
 * The startup table: median, fastest and slowest run, the ratio to the first target (the
 * median of each round's own ratio), and the same for CPU time.
 */
export function formatStartup(times: StartupTimes): string {
  const [floor, ...rest] = [...times.keys()];
  const base = times.get(floor)!;
  const ratio = (values: number[], bases: number[]) =>
    `${median(values.map((value, i) => value / bases[i])).toFixed(2)}x`;
  const lines = [
    `| spawn to first /healthz 200 (${base.length} runs each) | median ms | min ms | max ms | vs hello | CPU ms (median) | CPU vs hello |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const cpuOf = (runs: StartupRun[]) => runs.map((run) => run.cpuMs ?? NaN);
  for (const name of [floor, ...rest]) {
    const runs = times.get(name)!;
    const ms = runs.map((run) => run.ms);
    const cpu = cpuOf(runs);
    const hasCpu = cpu.every((value) => !Number.isNaN(value));
    lines.push(
      `| ${name} | ${median(ms).toFixed(1)} | ${Math.min(...ms).toFixed(1)} | ${
        Math.max(...ms).toFixed(1)
      } | ${ratio(ms, base.map((run) => run.ms))} | ${hasCpu ? median(cpu).toFixed(1) : "-"} | ${
        hasCpu ? ratio(cpu, cpuOf(base)) : "-"
      } |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "15" }, quiet: { type: "boolean" } },
  });
  const times = await measureStartup(
    Number(values.runs),
    STARTUP_TARGETS,
    values.quiet ? undefined : (line) => console.error(line),
  );
  console.log(formatStartup(times));
}
