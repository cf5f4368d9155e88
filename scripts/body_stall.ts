/**
 * How long one large JSON body on a body-rules route stalls everyone else: the gateway and
 * an upstream run as their own processes; small requests the gateway answers itself
 * (`/healthz`, so the upstream's own work is not counted) probe it back to back while a
 * 15 MB chat body goes through the rules route, and the slowest probe is reported (with the
 * probes' usual latency for comparison). Then the same body is sent alone, and the gateway's
 * CPU time for it is read from /proc (Linux): the work a body costs, whatever else the machine
 * is doing. On a busy machine, the least of the stalls is the one to compare.
 *
 * ```sh
 * deno run -A scripts/body_stall.ts [--main path/to/main.ts] [--deny] [--not-ascii] [--mb 15] [--runs 5]
 * ```
 *
 * `--deny` adds a deny pattern, so the rules read the message text too; `--not-ascii` writes
 * the prompt in Russian.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    main: { type: "string", default: new URL("../main.ts", import.meta.url).pathname },
    deny: { type: "boolean", default: false },
    "not-ascii": { type: "boolean", default: false },
    mb: { type: "string", default: "15" },
    runs: { type: "string", default: "5" },
    "runtime-arg": { type: "string", multiple: true, default: [] },
  },
});
const MiB = 1024 * 1024;
const bodyBytes = Number(values.mb) * MiB;
const runs = Number(values.runs);

async function listening(
  child: Deno.ChildProcess,
  stream: ReadableStream<Uint8Array>,
): Promise<number> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`No port in: ${text}`);
    text += value;
    const port = /"port":(\d+)/.exec(text)?.[1];
    if (port) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      void child.status;
      return Number(port);
    }
  }
}

const upstreamCode = `
Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(JSON.stringify({ port: a.port })) },
  async (req) => { if (req.body) await req.arrayBuffer(); return Response.json({ ok: true }); });`;
const upstream = new Deno.Command(Deno.execPath(), {
  args: ["eval", upstreamCode],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const upstreamPort = await listening(upstream, upstream.stdout);

const dir = await Deno.makeTempDir();
await Deno.writeTextFile(
  `${dir}/routes.yaml`,
  `routes:
  - name: rules
    path: /rules
    upstream: http://127.0.0.1:${upstreamPort}
    allow: ["POST /**"]
    limits: { body: ${Number(values.mb) + 1}mb }
    body:
      models: [gpt-4o-mini]
      max_tokens: 256
${values.deny ? '      deny: ["ignore (all )?previous instructions"]\n' : ""}`,
);
const gateway = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...values["runtime-arg"],
    "-A",
    values.main,
    "serve",
    "--config",
    `${dir}/routes.yaml`,
    "--port",
    "0",
    "--hostname",
    "127.0.0.1",
  ],
  stdout: "null",
  stderr: "piped",
}).spawn();
const base = `http://127.0.0.1:${await listening(gateway, gateway.stderr)}`;

const body = new TextEncoder().encode(JSON.stringify({
  model: "gpt-4o-mini",
  max_tokens: 4096,
  messages: [
    { role: "system", content: "You are helpful." },
    {
      role: "user",
      content: "Summarise: " +
        (values["not-ascii"]
          ? "съешь же ещё этих мягких французских булок ".repeat(bodyBytes / 78)
          : "lorem ipsum dolor sit amet ".repeat(bodyBytes / 27)),
    },
  ],
}));

async function probe(): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${base}/healthz`);
  await response.body?.cancel();
  return performance.now() - start;
}

/** Probes back to back until `until` settles; returns every latency. */
async function probing(until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => done = true);
  const latencies: number[] = [];
  while (!done) latencies.push(await probe());
  return latencies;
}

const percentile = (list: number[], p: number) =>
  [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(list.length * p))];

for (let i = 0; i < 200; i++) await probe();
const idle = await probing(new Promise((resolve) => setTimeout(resolve, 1000)));
const stalls: number[] = [];
const medians: number[] = [];
const durations: number[] = [];
for (let run = 0; run < runs; run++) {
  const start = performance.now();
  const big = fetch(`${base}/rules/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  }).then(async (response) => {
    if (response.status !== 200) throw new Error(`Status ${response.status}`);
    await response.body?.cancel();
    durations.push(performance.now() - start);
  });
  const latencies = await probing(big);
  await big;
  stalls.push(Math.max(...latencies));
  medians.push(percentile(latencies, 0.5));
}
/** The gateway's CPU time so far, in milliseconds (user + system, from /proc). */
async function cpuMs(): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${gateway.pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

const cpu: number[] = [];
for (let run = 0; run < runs; run++) {
  const before = await cpuMs();
  const response = await fetch(`${base}/rules/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  await response.body?.cancel();
  cpu.push(await cpuMs() - before);
}

const round = (n: number) => Math.round(n * 10) / 10;
console.log(JSON.stringify({
  body_mb: round(body.byteLength / MiB),
  deny: values.deny,
  not_ascii: values["not-ascii"],
  idle_probe_ms: { p50: round(percentile(idle, 0.5)), max: round(Math.max(...idle)) },
  max_probe_ms_during_body: stalls.map(round),
  median_max_probe_ms: round(percentile(stalls, 0.5)),
  min_max_probe_ms: round(Math.min(...stalls)),
  body_request_ms: durations.map(round),
  gateway_cpu_ms_per_body: cpu,
  median_gateway_cpu_ms: percentile(cpu, 0.5),
}));
gateway.kill("SIGTERM");
upstream.kill("SIGTERM");
await Promise.all([gateway.status, upstream.status]);
await Deno.remove(dir, { recursive: true });
