/**
 * `deno task bench`: keyward side by side with nginx (the reference proxy) and a direct run
 * against the mock upstream (the limit), driven by wrk over alternating rounds, printed as a
 * Markdown table of requests/s, p50/p99 latency, peak RSS and ratios.
 *
 * keyward runs as one process, as two processes sharing the port (`--reuse-port`), with
 * 1,000 routes, and metering usage as the presets do; the inference.sh and fal SDK proxies
 * (Express on Node) run as peers where Node is installed. Then the lab (`bench/lab.ts`): SSE delay per event, 256 MB each way,
 * 2,000 held streams. First of all, on a quiet machine, startup (`bench/startup.ts`): spawn to
 * the first `/healthz` of a bare `Deno.serve` and of `main.ts` on the shipped routes.yaml.
 *
 * Options: `--quick` (one round, 200 held streams, 5 startup runs), `--rounds N` (5),
 * `--seconds N` (3), `--connections N`, `--startup-runs N` (15), `--skip-lab`, and
 * `--baseline DIR`: another checkout of keyward (the commit before a change) run side by side
 * with this one, moments apart in every round, with ratios.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatLab, runLab, startLabUpstream } from "./bench/lab.ts";
import { benchConfig, type KeywardProcess, peakRssMb, startKeyward } from "./bench/keyward.ts";
import { mockServer, proxyServer, startNginx } from "./bench/nginx.ts";
import { startPeers } from "./bench/peers.ts";
import { startBareProxy } from "./bench/bare_proxy.ts";
import { freePort } from "./bench/spawn.ts";
import { formatTable, median, type Row } from "./bench/table.ts";
import { runWrk, type WrkResult } from "./bench/wrk.ts";
import { measureCpu } from "./bench/cpu.ts";
import { benchTokenHeaders, budgetConfig, clusterStore } from "./bench/budget.ts";
import { startRedis } from "../tests/helpers/redis.ts";
import { startRedisCluster } from "../tests/helpers/redis_cluster.ts";
import {
  baselineTargets,
  formatStartup,
  measureStartup,
  STARTUP_TARGETS,
} from "./bench/startup.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string", default: "50" },
    "skip-lab": { type: "boolean", default: false },
    "startup-runs": { type: "string" },
    baseline: { type: "string" },
  },
});
/** Another checkout to compare against, and how its rows are named. */
const baseline = values.baseline ? Deno.realPathSync(values.baseline) : undefined;
const BASE = "baseline";
// More short rounds rather than a few long ones: the medians shrug off a slow moment.
const rounds = Number(values.rounds ?? (values.quick ? 1 : 5));
const seconds = Number(values.seconds ?? 3);
const connections = Number(values.connections);
const startupRuns = Number(values["startup-runs"] ?? (values.quick ? 5 : 15));

// Before anything else runs: startup is timed against a bare Deno.serve, in alternation.
const startup = await measureStartup(
  startupRuns,
  baseline ? [...STARTUP_TARGETS, ...baselineTargets(baseline, BASE)] : undefined,
  (line) => console.error(line),
);

const dir = await Deno.makeTempDir({ prefix: "keyward-bench-" });
const mockPort = freePort();
const proxyPort = freePort();
const mock = await startNginx(`${dir}/mock`, mockServer(mockPort));
const lab = await startLabUpstream();
const nginx = await startNginx(`${dir}/proxy`, proxyServer(proxyPort, mockPort, lab.port));
const keyward = await startKeyward(dir, benchConfig(mockPort, 0, false, lab.port));
const keyward1000 = await startKeyward(dir, benchConfig(mockPort, 999));
// The same processes from the baseline checkout, when one is given.
const baseKeyward = baseline
  ? await startKeyward(dir, benchConfig(mockPort, 0, false, lab.port), {
    main: `${baseline}/main.ts`,
  })
  : undefined;
const metered = await startKeyward(dir, benchConfig(mockPort, 0, true));
const baseMetered = baseline
  ? await startKeyward(dir, benchConfig(mockPort, 0, true), { main: `${baseline}/main.ts` })
  : undefined;
const sharedPort = freePort();
const workers = [
  await startKeyward(dir, benchConfig(mockPort), { port: sharedPort, args: ["--reuse-port"] }),
  await startKeyward(dir, benchConfig(mockPort), { port: sharedPort, args: ["--reuse-port"] }),
];
const clamped = await startKeyward(dir, budgetConfig(mockPort, "clamp"));
const budget = await startKeyward(dir, budgetConfig(mockPort, "budget"));
const redis = await startRedis();
const budgetRedis = await startKeyward(
  dir,
  budgetConfig(mockPort, "budget", `{ kind: redis, url: "${redis.url}" }`),
);
const redisCluster = await startRedisCluster();
const budgetCluster = await startKeyward(
  dir,
  budgetConfig(mockPort, "budget", clusterStore(redisCluster.urls)),
);
const spend = await startKeyward(dir, budgetConfig(mockPort, "spend"));
const spendRedis = await startKeyward(
  dir,
  budgetConfig(mockPort, "spend", `{ kind: redis, url: "${redis.url}" }`),
);
const spendCluster = await startKeyward(
  dir,
  budgetConfig(mockPort, "spend", clusterStore(redisCluster.urls)),
);
const tokenAuth = await startKeyward(dir, budgetConfig(mockPort, "token"));
const tokenHeaders = await benchTokenHeaders();
const processes: KeywardProcess[] = [
  ...(baseKeyward ? [baseKeyward] : []),
  ...(baseMetered ? [baseMetered] : []),
  keyward,
  keyward1000,
  metered,
  ...workers,
  clamped,
  budget,
  budgetRedis,
  budgetCluster,
  spend,
  spendRedis,
  spendCluster,
  tokenAuth,
];
const bare = await startBareProxy(freePort(), `http://127.0.0.1:${mockPort}`);
const peers = await startPeers(dir, `http://127.0.0.1:${mockPort}/v1/chat/completions`);
const nginxWorkers = await nginx.workers();

try {
  const body = JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Hi" }],
  });
  const targets: {
    name: string;
    base: string;
    workloads: string[];
    headers?: Record<string, string>;
    /** The proxy's processes, whose CPU time per request is measured. */
    pids?: number[];
  }[] = [
    { name: "direct", base: `http://127.0.0.1:${mockPort}`, workloads: ["json", "sse"] },
    {
      name: "nginx",
      base: `http://127.0.0.1:${proxyPort}/openai`,
      workloads: ["json", "sse"],
      pids: nginxWorkers,
    },
    { name: "direct", base: lab.url, workloads: ["stream"] },
    {
      name: "nginx",
      base: `http://127.0.0.1:${proxyPort}/lab`,
      workloads: ["stream"],
      pids: nginxWorkers,
    },
    { name: "keyward", base: `${keyward.url}/lab`, workloads: ["stream"], pids: [keyward.pid] },
    ...(baseKeyward
      ? [{
        name: `keyward (${BASE})`,
        base: `${baseKeyward.url}/lab`,
        workloads: ["stream"],
        pids: [baseKeyward.pid],
      }]
      : []),
    {
      name: "Deno.serve + fetch, no checks",
      base: bare.url,
      workloads: ["json", "sse"],
      pids: [bare.pid],
    },
    {
      name: "keyward",
      base: `${keyward.url}/openai`,
      workloads: ["json", "sse"],
      pids: [keyward.pid],
    },
    ...(baseKeyward
      ? [{
        name: `keyward (${BASE})`,
        base: `${baseKeyward.url}/openai`,
        workloads: ["json", "sse"],
        pids: [baseKeyward.pid],
      }]
      : []),
    // Right after keyward, so each round compares the two a moment apart.
    {
      name: "keyward, 1,000 routes",
      base: `${keyward1000.url}/openai`,
      workloads: ["json"],
      pids: [keyward1000.pid],
    },
    {
      name: "keyward, 2 workers",
      base: `${workers[0].url}/openai`,
      workloads: ["json", "sse"],
      pids: workers.map((w) => w.pid),
    },
    {
      name: "keyward, usage metered",
      base: `${metered.url}/openai`,
      workloads: ["json", "sse"],
      pids: [metered.pid],
    },
    ...(baseMetered
      ? [{
        name: `keyward, usage metered (${BASE})`,
        base: `${baseMetered.url}/openai`,
        workloads: ["json", "sse"],
        pids: [baseMetered.pid],
      }]
      : []),
    // What a token budget and a client token cost on top of the same route.
    {
      name: "keyward, usage + clamp",
      base: `${clamped.url}/openai`,
      workloads: ["json"],
      pids: [clamped.pid],
    },
    {
      name: "keyward, token budget (memory)",
      base: `${budget.url}/openai`,
      workloads: ["json"],
      pids: [budget.pid],
    },
    {
      name: "keyward, token budget (redis)",
      base: `${budgetRedis.url}/openai`,
      workloads: ["json"],
      pids: [budgetRedis.pid],
    },
    {
      name: "keyward, token budget (redis cluster)",
      base: `${budgetCluster.url}/openai`,
      workloads: ["json"],
      pids: [budgetCluster.pid],
    },
    {
      name: "keyward, spend budget (memory)",
      base: `${spend.url}/openai`,
      workloads: ["json"],
      pids: [spend.pid],
    },
    {
      name: "keyward, spend budget (redis)",
      base: `${spendRedis.url}/openai`,
      workloads: ["json"],
      pids: [spendRedis.pid],
    },
    {
      name: "keyward, spend budget (redis cluster)",
      base: `${spendCluster.url}/openai`,
      workloads: ["json"],
      pids: [spendCluster.pid],
    },
    {
      name: "keyward, token auth",
      base: `${tokenAuth.url}/openai`,
      workloads: ["json"],
      headers: tokenHeaders,
      pids: [tokenAuth.pid],
    },
    // The SDK proxies take the full target URL in a header: their path is the whole base.
    ...peers.map((peer) => ({
      name: peer.name,
      base: peer.url,
      workloads: ["peer"],
      headers: peer.headers,
      pids: [peer.pid],
    })),
  ];
  const paths: Record<string, string> = {
    json: "/v1/chat/completions",
    sse: "/v1/stream",
    stream: "/v1/events?n=20&gap=0",
    peer: "",
  };
  const workloadOf = (workload: string) => workload === "peer" ? "json" : workload;
  const results = new Map<string, (WrkResult & { cpuUs?: number })[]>();
  // warm-up, so JIT and connection pools are ready before anything is counted
  for (const target of targets) {
    for (const workload of target.workloads) {
      await runWrk(target.base + paths[workload], {
        connections,
        seconds: 1,
        body,
        dir,
        headers: target.headers,
      });
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const workload of ["json", "sse", "stream", "peer"]) {
      for (const target of targets) {
        if (!target.workloads.includes(workload)) continue;
        const key = `${target.name}|${workloadOf(workload)}`;
        const result = await measureCpu(
          target.pids ?? [],
          () =>
            runWrk(target.base + paths[workload], {
              connections,
              seconds,
              body,
              dir,
              headers: target.headers,
            }),
        );
        results.set(key, [...(results.get(key) ?? []), result]);
        console.error(`round ${round + 1}: ${key} ${Math.round(result.rps)} req/s`);
      }
    }
  }
  const rss: Record<string, number | undefined> = {
    nginx: nginxWorkers.length ? await peakRssMb(nginxWorkers[0]) : undefined,
    keyward: await peakRssMb(keyward.pid),
    "keyward, 1,000 routes": await peakRssMb(keyward1000.pid),
    "keyward, 2 workers": (await peakRssMb(workers[0].pid)) + (await peakRssMb(workers[1].pid)),
    "keyward, usage metered": await peakRssMb(metered.pid),
    ...(baseKeyward ? { [`keyward (${BASE})`]: await peakRssMb(baseKeyward.pid) } : {}),
    ...(baseMetered
      ? { [`keyward, usage metered (${BASE})`]: await peakRssMb(baseMetered.pid) }
      : {}),
    "Deno.serve + fetch, no checks": await peakRssMb(bare.pid),
  };
  for (const peer of peers) rss[peer.name] = await peakRssMb(peer.pid);
  rss["keyward, usage + clamp"] = await peakRssMb(clamped.pid);
  rss["keyward, token budget (memory)"] = await peakRssMb(budget.pid);
  rss["keyward, token budget (redis)"] = await peakRssMb(budgetRedis.pid);
  rss["keyward, token budget (redis cluster)"] = await peakRssMb(budgetCluster.pid);
  rss["keyward, spend budget (memory)"] = await peakRssMb(spend.pid);
  rss["keyward, spend budget (redis)"] = await peakRssMb(spendRedis.pid);
  rss["keyward, spend budget (redis cluster)"] = await peakRssMb(spendCluster.pid);
  rss["keyward, token auth"] = await peakRssMb(tokenAuth.pid);
  const rows: Row[] = [];
  for (const [key, runs] of results) {
    const [target, workload] = key.split("|");
    rows.push({
      target,
      workload,
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUs: runs[0].cpuUs === undefined ? undefined : median(runs.map((r) => r.cpuUs ?? NaN)),
      rssMb: rss[target],
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
    });
  }
  rows.sort((a, b) => a.workload.localeCompare(b.workload));
  console.log(
    `keyward bench: ${rounds} round(s) x ${seconds}s, wrk -t1 -c${connections}, ` +
      `${navigator.hardwareConcurrency} cores, one worker per server unless named ` +
      `(peak RSS of 2 workers is their sum)\n`,
  );
  console.log(formatTable(rows));
  // Ratios are the median of each round's own ratio: both sides ran moments apart, so a slow
  // spell on the machine moves both.
  const ratio = (a: string, b: string) => {
    const x = results.get(a) ?? [];
    const y = results.get(b) ?? [];
    return median(x.map((run, i) => run.rps / y[i].rps));
  };
  console.log(
    `\nstartup to first served request: ${keyward.startupMs.toFixed(0)} ms (1 route), ` +
      `${keyward1000.startupMs.toFixed(0)} ms (1,000 routes), once each under load; ` +
      `side by side with a bare Deno.serve (shipped routes.yaml):\n\n${formatStartup(startup)}\n`,
  );
  const routes = ratio("keyward, 1,000 routes|json", "keyward|json");
  console.log(`1,000 routes vs 1: ${((1 - routes) * 100).toFixed(1)}% fewer requests/s`);
  // What a reservation (reserve + settle in the store) and a token's verification cost, as
  // CPU time per request over the same route without them.
  const cpu = (name: string) =>
    median((results.get(`${name}|json`) ?? []).map((r) => r.cpuUs ?? NaN));
  const extra = (name: string, base: string) => (cpu(name) - cpu(base)).toFixed(1);
  console.log(
    `token budget: +${extra("keyward, token budget (memory)", "keyward, usage + clamp")} ` +
      `CPU µs/req (memory), +${extra("keyward, token budget (redis)", "keyward, usage + clamp")} ` +
      `(redis, gateway side), +${
        extra("keyward, token budget (redis cluster)", "keyward, usage + clamp")
      } (redis cluster, gateway side); ` +
      `token auth: +${extra("keyward, token auth", "keyward")} CPU µs/req`,
  );
  console.log(
    `spend budget: +${extra("keyward, spend budget (memory)", "keyward, usage + clamp")} ` +
      `CPU µs/req (memory), +${extra("keyward, spend budget (redis)", "keyward, usage + clamp")} ` +
      `(redis), +${extra("keyward, spend budget (redis cluster)", "keyward, usage + clamp")} ` +
      `(redis cluster); prices over tokens: ${
        extra("keyward, spend budget (memory)", "keyward, token budget (memory)")
      } CPU µs/req`,
  );
  if (baseline) {
    // This checkout against the baseline, each round's own ratio: both ran moments apart.
    const lines = [`\nagainst the ${BASE} (${baseline}):`];
    for (
      const [name, workloads] of [
        ["keyward", ["json", "sse", "stream"]],
        ["keyward, usage metered", ["json", "sse"]],
      ] as const
    ) {
      for (const workload of workloads) {
        const key = `${name}|${workload}`;
        const base = `${name} (${BASE})|${workload}`;
        if (!results.has(key) || !results.has(base)) continue;
        const cpuOf = (k: string) => median((results.get(k) ?? []).map((r) => r.cpuUs ?? NaN));
        lines.push(
          `  ${name}, ${workload}: ${ratio(key, base).toFixed(2)}x requests/s; CPU ` +
            `${cpuOf(base).toFixed(1)} -> ${cpuOf(key).toFixed(1)} µs/req`,
        );
      }
    }
    console.log(lines.join("\n"));
  }
  for (const peer of peers) {
    if (!results.has(`${peer.name}|json`)) continue;
    const times = ratio("keyward|json", `${peer.name}|json`);
    console.log(`keyward vs ${peer.name}: ${times.toFixed(1)}x requests/s`);
  }
  for (const process of processes) await process.stop();
  processes.length = 0;
  for (const peer of peers.splice(0)) await peer.stop();
  if (!values["skip-lab"]) {
    const streams = values.quick ? 200 : 2000;
    console.log("\n" + formatLab(await runLab(dir, { streams })));
    if (baseline) {
      const base = await runLab(dir, { streams, main: `${baseline}/main.ts` });
      console.log(`\n${BASE}:\n${formatLab(base)}`);
    }
  }
} finally {
  for (const process of processes) await process.stop();
  for (const peer of peers) await peer.stop();
  await bare.stop();
  await nginx.stop();
  await mock.stop();
  await lab.stop();
  await redis.stop();
  await redisCluster.stop();
  await Deno.remove(dir, { recursive: true });
}
