import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";

const base = { time: "t", id: "i", method: "GET", path: "/p" };

Deno.test("histograms are cumulative and label values are escaped", () => {
  const metrics = new Metrics();
  metrics.observe({ ...base, route: 'we"ird\\', status: 200, duration_ms: 30, ttfb_ms: 4 });
  metrics.observe({ ...base, route: 'we"ird\\', status: 200, duration_ms: 700 });
  const text = metrics.render();
  const route = 'route="we\\"ird\\\\"';
  assert.match(
    text,
    new RegExp(`keyward_request_duration_seconds_bucket\\{${escape(route)},le="0.025"\\} 0`),
  );
  assert.match(
    text,
    new RegExp(`keyward_request_duration_seconds_bucket\\{${escape(route)},le="0.05"\\} 1`),
  );
  assert.match(
    text,
    new RegExp(`keyward_request_duration_seconds_bucket\\{${escape(route)},le="1"\\} 2`),
  );
  assert.match(text, new RegExp(`keyward_request_duration_seconds_sum\\{${escape(route)}\\} 0.73`));
  assert.match(text, new RegExp(`keyward_upstream_ttfb_seconds_count\\{${escape(route)}\\} 1`));
});

Deno.test("only the gateway's own 429s count as rate limited", () => {
  const metrics = new Metrics();
  metrics.observe({ ...base, route: "r", status: 429, duration_ms: 1 });
  metrics.observe({ ...base, route: "r", status: 429, duration_ms: 1, ttfb_ms: 1 });
  assert.match(metrics.render(), /keyward_rate_limited_total\{route="r"\} 1\n/);
});

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
