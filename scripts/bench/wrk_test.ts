import assert from "node:assert/strict";
import { parseWrk } from "./wrk.ts";
import { formatTable, median } from "./table.ts";

const SAMPLE = `Running 3s test @ http://127.0.0.1:1/v1/x
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    19.85ms    7.99ms  85.68ms   82.86%
  Latency Distribution
     50%  712.00us
     75%    1.20ms
     90%    2.01ms
     99%    1.05s
  7651 requests in 3.00s, 1.20MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2550.37
`;

Deno.test("wrk output is read in ms whatever unit it prints", () => {
  assert.deepEqual(parseWrk(SAMPLE), {
    rps: 2550.37,
    p50: 0.712,
    p99: 1050,
    errors: 7,
    requests: 7651,
  });
});

Deno.test("the table shows ratios to nginx and direct for the same workload", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  const table = formatTable([
    { target: "direct", workload: "json", rps: 4000, p50: 1, p99: 2, errors: 0 },
    { target: "nginx", workload: "json", rps: 2000, p50: 1, p99: 2, rssMb: 8, errors: 0 },
    {
      target: "keyward",
      workload: "json",
      rps: 1000,
      p50: 1,
      p99: 2,
      cpuUs: 48.25,
      rssMb: 60,
      errors: 0,
    },
  ]);
  assert.match(
    table,
    /\| keyward \| json \| 1000 \| 1\.00 \| 2\.00 \| 48\.3 \| 60 \| 0\.50x \| 0\.25x \| 0 \|/,
  );
});
