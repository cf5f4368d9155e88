/**
 * Redis dies under requests and comes back: a gateway on `store: redis` with a request limit
 * answers 503 `store_unavailable` within 100 ms to every request while Redis is down (measured
 * by the client), never lets one through uncounted, and serves again within a second of
 * Redis's return on the same port.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startRedis } from "./helpers/redis.ts";
import { serveLoopback } from "./helpers/serve.ts";

const WORKERS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request as the client saw it. */
interface Seen {
  start: number;
  end: number;
  status: number;
  /** The error type of a refusal. */
  type?: string;
  /** Whether a 200 carried the limit's headers (it was counted). */
  counted: boolean;
}

Deno.test("Redis killed and restarted under requests: 503 within 100 ms while down, 200 again within a second", async () => {
  let redis = await startRedis();
  const port = redis.port;
  const upstream = await serveLoopback(() => Response.json({ ok: true }));
  const gateway = await startGateway(`store: { kind: redis, url: "${redis.url}" }
routes:
  - name: limited
    path: /limited
    upstream: ${upstream.url}
    allow: ["GET /**"]
    limits: { requests: 1000000/hour }
`);
  const seen: Seen[] = [];
  let running = true;
  const deadline = performance.now() + 20_000; // bounded whatever happens
  const workers = Array.from({ length: WORKERS }, async () => {
    while (running && performance.now() < deadline) {
      const start = performance.now();
      const response = await fetch(`${gateway.url}/limited/x`);
      const body = await response.text();
      const end = performance.now();
      const type = response.status === 200 ? undefined : JSON.parse(body).error?.type;
      const counted = response.headers.has("ratelimit-remaining");
      seen.push({ start, end, status: response.status, type, counted });
      // A tight loop of instant refusals would only measure the loop.
      if (response.status !== 200) await sleep(2);
    }
  });
  let killed = 0, restarting = 0, back = 0;
  try {
    // Warm first (the first request loads the Redis client and connects), then a while of 200s.
    while (!seen.some((s) => s.status === 200) && performance.now() < deadline) await sleep(20);
    await sleep(300);
    await redis.kill();
    killed = performance.now();
    await sleep(1_000);
    restarting = performance.now();
    redis = await startRedis(port);
    back = performance.now(); // answering PING
    await sleep(1_500);
  } finally {
    running = false;
    await Promise.all(workers);
    await gateway.close();
    await upstream.close();
    await redis.stop();
  }

  const unexpected = seen.filter((s) =>
    s.status !== 200 && !(s.status === 503 && s.type === "store_unavailable")
  );
  assert.deepEqual(unexpected, [], "only 200 and 503 store_unavailable");
  assert.ok(seen.some((s) => s.end < killed && s.status === 200), "served before the kill");

  // Never unlimited: every request let through was counted, and none while Redis was gone.
  assert.ok(seen.filter((s) => s.status === 200).every((s) => s.counted));
  const whileDown = seen.filter((s) => s.start > killed && s.end < restarting);
  assert.ok(whileDown.length > 50, `${whileDown.length} requests while down`);
  assert.ok(whileDown.every((s) => s.status === 503), "nothing passes while Redis is down");

  // Each refusal within 100 ms, the ones in flight at the kill included.
  const refusals = seen.filter((s) => s.status === 503).map((s) => s.end - s.start);
  const slowest = Math.max(...refusals);
  assert.ok(slowest < 100, `slowest 503 took ${slowest.toFixed(1)} ms`);

  // Serving again within a second of Redis's return, and from then on.
  const firstBack = seen.find((s) => s.start > restarting && s.status === 200);
  assert.ok(firstBack, "served again after the restart");
  const recovery = firstBack.end - back;
  assert.ok(recovery < 1_000, `first 200 ${recovery.toFixed(0)} ms after Redis answered`);
  const later = seen.filter((s) => s.start > back + 1_000);
  assert.ok(later.length > 0 && later.every((s) => s.status === 200), "serving steadily");

  const sorted = refusals.toSorted((a, b) => a - b);
  console.log(
    `${refusals.length} refusals while down: median ${
      sorted[sorted.length >> 1].toFixed(1)
    } ms, slowest ${slowest.toFixed(1)} ms; first 200 ${
      recovery.toFixed(0)
    } ms after Redis answered again (${(back - restarting).toFixed(0)} ms to restart it)`,
  );
});
