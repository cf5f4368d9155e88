/**
 * The benchmark's table: each figure, and requests/s as a ratio to nginx and to direct.
 *
 * @module
 */

/** One row: a target under one workload, medians over the rounds. */
export interface Row {
  /** What was driven (direct, nginx, keyward, ...). */
  target: string;
  /** json or sse. */
  workload: string;
  /** Requests per second. */
  rps: number;
  /** Median latency, ms. */
  p50: number;
  /** 99th percentile latency, ms. */
  p99: number;
  /** CPU time of the proxy's processes per request, µs (empty for direct). */
  cpuUs?: number;
  /** Peak RSS of the proxy process, MB (empty for direct). */
  rssMb?: number;
  /** Failed requests seen by wrk. */
  errors: number;
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Formats rows as a Markdown table, ratios against the same workload's nginx and direct. */
export function formatTable(rows: Row[]): string {
  const find = (target: string, workload: string) =>
    rows.find((r) => r.target === target && r.workload === workload);
  const ratio = (a: number, b?: number) => b ? `${(a / b).toFixed(2)}x` : "-";
  const lines = [
    "| target | workload | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MB | vs nginx | vs direct | errors |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.target} | ${r.workload} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${
        r.p99.toFixed(2)
      } | ${r.cpuUs === undefined ? "-" : r.cpuUs.toFixed(1)} | ${
        r.rssMb ? r.rssMb.toFixed(0) : "-"
      } | ${ratio(r.rps, find("nginx", r.workload)?.rps)} | ${
        ratio(r.rps, find("direct", r.workload)?.rps)
      } | ${r.errors} |`,
    );
  }
  return lines.join("\n");
}
