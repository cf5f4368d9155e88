/**
 * `deno task bench:visitors`: what visitors cost, measured on this machine.
 *
 * - Server: CPU time (process user + system, all threads) of each `POST /keyward/visitor/token`
 *   through the gateway's app (challenge check, the once-only record, one argon2id, the token
 *   signed), of one argon2id hash alone, and of an `auth: visitor` check of a token seen for
 *   the first time; medians and tails over `--n` runs (300).
 * - Browser (`--browser`): the wall time a page on its own origin takes to solve a challenge
 *   with visitor.js in headless Chromium, per difficulty (`--difficulties 750,1500,3000,6000`,
 *   `--solves 20` each), and `visitorToken()` end to end at the default `seconds: 2`.
 *
 * Markdown tables on standard output. The machine's load moves wall times; CPU times hold.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { loadConfigText } from "../../src/config/load.ts";
import { Exchange } from "../../src/exchange.ts";
import { buildGateway } from "../../src/gateway.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { loadArgon2id } from "../../src/visitors/argon2.ts";
import { issueChallenge } from "../../src/visitors/challenge.ts";
import { visitorKeys } from "../../src/visitors/keys.ts";
import { solvePuzzle } from "../../src/visitors/puzzle.ts";
import { createVisitors } from "../../src/visitors/visitors.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "300" },
    browser: { type: "boolean", default: false },
    difficulties: { type: "string", default: "750,1500,3000,6000" },
    solves: { type: "string", default: "20" },
  },
});

const SECRET = "bench-visitor-secret-of-32-bytes-or-more";

/** Percentiles of some numbers. */
function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { median: at(0.5), mean, p90: at(0.9), p95: at(0.95), p99: at(0.99), max: at(1) };
}

function cpuMs<T>(run: () => T): Promise<[Awaited<T>, number]> {
  return (async () => {
    const before = process.cpuUsage();
    const result = await run();
    const spent = process.cpuUsage(before);
    return [result, (spent.user + spent.system) / 1000] as [Awaited<T>, number];
  })();
}

async function server(n: number) {
  const yaml = `server:
  visitors: { secret: "${SECRET}", proof_of_work: { seconds: 0.01 }, per_address: 100/hour }
routes:
  - { name: echo, path: /echo, upstream: "http://127.0.0.1:9", allow: ["GET /**"], auth: visitor }
`;
  const { config } = loadConfigText(yaml, "bench.yaml", () => undefined);
  const gateway = await buildGateway(config, { log: () => {}, store: new MemoryStore() });
  const argon2 = await loadArgon2id();
  const token: number[] = [];
  const hash: number[] = [];
  const auth: number[] = [];
  const visitors = await createVisitors(config.server!.visitors!, {
    store: new MemoryStore(),
    trustForwarded: false,
  });
  const salt = new TextEncoder().encode("x".repeat(330)); // a challenge's length
  for (let i = 0; i < n; i++) {
    // A /24 of its own for each, so the difficulty stays put.
    const info = { remoteAddr: { hostname: `10.${i >> 8}.${i & 255}.7` } };
    const issued = await (await gateway.app.fetch(
      new Request("http://gateway/keyward/visitor/challenge"),
      info,
    )).json();
    const nonce = solvePuzzle(argon2, issued.challenge, issued.difficulty, 1024, 1);
    const request = new Request("http://gateway/keyward/visitor/token", {
      method: "POST",
      body: JSON.stringify({ challenge: issued.challenge, nonce }),
    });
    const [answer, ms] = await cpuMs(() => gateway.app.fetch(request, info));
    const { token: minted } = await answer.json();
    token.push(ms);
    hash.push((await cpuMs(() => argon2.hash(String(i), salt, 1024, 1)))[1]);
    const x = new Exchange(
      new Request("http://gateway/echo/x"),
      info,
      "b",
      "",
      "/echo/x",
      () => {},
    );
    auth.push((await cpuMs(() => visitors.authenticate(x, minted)))[1]);
  }
  await gateway.close();
  const row = (what: string, values: number[]) => {
    const s = stats(values);
    return `| ${what} | ${s.median.toFixed(2)} | ${s.p95.toFixed(2)} | ${s.p99.toFixed(2)} | ${
      s.max.toFixed(2)
    } |`;
  };
  console.log(
    `Server CPU per operation, ms (process user + system, n=${n}, Deno ${Deno.version.deno})\n`,
  );
  console.log("| operation | median | p95 | p99 | max |");
  console.log("|---|---|---|---|---|");
  console.log(row("POST /keyward/visitor/token (check, claim, argon2id, sign)", token));
  console.log(row("one argon2id, m=1 MiB, t=1", hash));
  console.log(row("auth: visitor, a token seen for the first time", auth));
  console.log("");
}

async function browser(difficulties: number[], solves: number) {
  const { launchBrowser, servePages } = await import("../../tests/helpers/browser.ts");
  const { serveLoopback } = await import("../../tests/helpers/serve.ts");
  const yaml = (seconds: number, origin: string) =>
    `server:
  cors: { origins: ["${origin}"] }
  visitors: { secret: "${SECRET}", proof_of_work: { seconds: ${seconds} }, per_address: 1000/hour }
routes:
  - { name: echo, path: /echo, upstream: "http://127.0.0.1:9", allow: ["GET /**"], auth: visitor }
`;
  const site = await servePages();
  const origin = site.origin("localhost");
  const { config } = loadConfigText(yaml(2, origin), "bench.yaml", () => undefined);
  const gateway = await buildGateway(config, { log: () => {} });
  const server = await serveLoopback((request, info) => gateway.app.fetch(request, info));
  site.set(
    "/",
    `<!doctype html><script type="module">
import * as visitor from "${server.url}/keyward/visitor.js";
window.kw = visitor; window.ready = true;
</script>`,
  );
  const chromium = await launchBrowser();
  const page = await chromium.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction("window.ready === true");
  const keys = visitorKeys(SECRET);
  const cores = await page.evaluate("navigator.hardwareConcurrency");
  console.log(
    `Solve time in headless Chromium, s (page on another origin, visitor.js workers: ` +
      `min(4, ${cores} cores); ${solves} solves each, start-up included)\n`,
  );
  console.log("| difficulty | median | mean | p90 | max | attempts/s |");
  console.log("|---|---|---|---|---|---|");
  for (const difficulty of difficulties) {
    const times: number[] = [];
    let attempts = 0;
    for (let i = 0; i < solves; i++) {
      const issued = await issueChallenge(keys, "127.0.0.0/24", origin, difficulty);
      const result = await page.evaluate(async (issued) => {
        // deno-lint-ignore no-explicit-any
        const kw = (globalThis as any).kw;
        const started = performance.now();
        const nonce = await kw.solveChallenge(issued);
        // Workers stride the nonces (worker i tries i, i + W, ...): about nonce + 1 were tried.
        return { ms: performance.now() - started, tried: Number(nonce) + 1 };
      }, issued);
      times.push(result.ms / 1000);
      attempts += result.tried;
    }
    const s = stats(times);
    const total = times.reduce((a, b) => a + b, 0);
    console.log(
      `| ${difficulty} | ${s.median.toFixed(2)} | ${s.mean.toFixed(2)} | ${s.p90.toFixed(2)} | ${
        s.max.toFixed(2)
      } | ~${Math.round(attempts / total)} |`,
    );
  }
  // End to end at the default: challenge, solve, token (five, under the per-prefix free rate).
  const ends: number[] = [];
  for (let i = 0; i < 5; i++) {
    ends.push(
      await page.evaluate(async () => {
        // deno-lint-ignore no-explicit-any
        const kw = (globalThis as any).kw;
        kw.forgetVisitorToken();
        const started = performance.now();
        await kw.visitorToken();
        return (performance.now() - started) / 1000;
      }),
    );
  }
  const e = stats(ends);
  console.log(
    `\nvisitorToken() end to end at seconds: 2 (difficulty 3000), n=5: median ${
      e.median.toFixed(2)
    } s, max ${e.max.toFixed(2)} s\n`,
  );
  await chromium.close();
  await server.close();
  await site.close();
  await gateway.close();
}

await server(Number(values.n));
if (values.browser) {
  await browser(values.difficulties.split(",").map(Number), Number(values.solves));
}
