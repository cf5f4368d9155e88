/**
 * Prometheus metrics from the request records: requests by route and status, outcomes by
 * route and code (the codes of the log line, see `outcome.ts`), latency and upstream
 * time-to-first-byte histograms, active streams, rate-limited requests, and tokens by route
 * and client, in the text exposition format (version 0.0.4).
 *
 * @module
 */
import { UNITS_PER_USD } from "../config/units.ts";
import type { QueueSnapshot } from "../queue/queue.ts";
import type { RequestRecord } from "./log.ts";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([name, value]) =>
    `${name}="${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

class Histogram {
  readonly counts: number[] = new Array(BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }

  render(name: string, pairs: Record<string, string>): string[] {
    const lines = BUCKETS.map((le, i) =>
      `${name}_bucket${labels({ ...pairs, le: String(le) })} ${this.counts[i]}`
    );
    lines.push(`${name}_bucket${labels({ ...pairs, le: "+Inf" })} ${this.count}`);
    lines.push(`${name}_sum${labels(pairs)} ${this.sum}`);
    lines.push(`${name}_count${labels(pairs)} ${this.count}`);
    return lines;
  }
}

/** The gateway's metrics: fed one finished request at a time, rendered on scrape. */
export class Metrics {
  #requests = new Map<string, { route: string; status: string; value: number }>();
  #duration = new Map<string, Histogram>();
  #ttfb = new Map<string, Histogram>();
  #limited = new Map<string, number>();
  #outcomes = new Map<string, { route: string; outcome: string; value: number }>();
  #tokens = new Map<string, { route: string; client: string; kind: string; value: number }>();
  /** Dollars by route and client, in units of 1e-8 USD (summed exactly). */
  #spend = new Map<string, { route: string; client: string; units: number }>();
  #streams = 0;
  #queues?: () => readonly QueueSnapshot[];

  /** Renders the routes' queues (`limits.queue`) from `snapshot` on every scrape. */
  watchQueues(snapshot: () => readonly QueueSnapshot[]): void {
    this.#queues = snapshot;
  }

  /** A response body started streaming to a client. */
  streamOpened(): void {
    this.#streams++;
  }

  /** A streamed response ended (completed, failed or cancelled). */
  streamClosed(): void {
    this.#streams--;
  }

  /** Counts one finished request. */
  observe(record: RequestRecord): void {
    const route = record.route ?? "";
    const status = String(record.status);
    const key = `${route}\0${status}`;
    const counter = this.#requests.get(key);
    if (counter) counter.value++;
    else this.#requests.set(key, { route, status, value: 1 });
    histogram(this.#duration, route).observe(record.duration_ms / 1000);
    if (record.ttfb_ms !== undefined) histogram(this.#ttfb, route).observe(record.ttfb_ms / 1000);
    // a 429 the upstream sent has a first byte; one the gateway's limits produced has none
    if (record.status === 429 && record.ttfb_ms === undefined) {
      this.#limited.set(route, (this.#limited.get(route) ?? 0) + 1);
    }
    if (record.error !== undefined) {
      const outcomeKey = `${route}\0${record.error}`;
      const entry = this.#outcomes.get(outcomeKey);
      if (entry) entry.value++;
      else this.#outcomes.set(outcomeKey, { route, outcome: record.error, value: 1 });
    }
    if (record.cost_usd !== undefined) {
      const client = record.client ?? "";
      const spendKey = `${route}\0${client}`;
      const units = Math.round(record.cost_usd * UNITS_PER_USD);
      const entry = this.#spend.get(spendKey);
      if (entry) entry.units += units;
      else this.#spend.set(spendKey, { route, client, units });
    }
    if (record.tokens) {
      const client = record.client ?? "";
      for (const kind of ["input", "output"] as const) {
        const tokenKey = `${route}\0${client}\0${kind}`;
        const entry = this.#tokens.get(tokenKey);
        if (entry) entry.value += record.tokens[kind];
        else this.#tokens.set(tokenKey, { route, client, kind, value: record.tokens[kind] });
      }
    }
  }

  /** Renders every metric in the Prometheus text format. */
  render(): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head("keyward_requests_total", "counter", "Requests answered, by route and status.");
    for (const { route, status, value } of this.#requests.values()) {
      out.push(`keyward_requests_total${labels({ route, status })} ${value}`);
    }
    head(
      "keyward_request_duration_seconds",
      "histogram",
      "Time from arrival to the response's end.",
    );
    for (const [route, h] of this.#duration) {
      out.push(...h.render("keyward_request_duration_seconds", { route }));
    }
    head("keyward_upstream_ttfb_seconds", "histogram", "Time to the upstream's first byte.");
    for (const [route, h] of this.#ttfb) {
      out.push(...h.render("keyward_upstream_ttfb_seconds", { route }));
    }
    head("keyward_active_streams", "gauge", "Response bodies streaming to clients now.");
    out.push(`keyward_active_streams ${this.#streams}`);
    head("keyward_rate_limited_total", "counter", "Requests refused by the gateway's limits.");
    for (const [route, value] of this.#limited) {
      out.push(`keyward_rate_limited_total${labels({ route })} ${value}`);
    }
    head(
      "keyward_outcomes_total",
      "counter",
      "Requests refused, failed or cut, by route and outcome code.",
    );
    for (const { route, outcome, value } of this.#outcomes.values()) {
      out.push(`keyward_outcomes_total${labels({ route, outcome })} ${value}`);
    }
    head("keyward_tokens_total", "counter", "Tokens the upstream reported, by route and client.");
    for (const { route, client, kind, value } of this.#tokens.values()) {
      out.push(`keyward_tokens_total${labels({ route, client, kind })} ${value}`);
    }
    head("keyward_spend_usd_total", "counter", "Dollars charged, by route and client.");
    for (const { route, client, units } of this.#spend.values()) {
      out.push(`keyward_spend_usd_total${labels({ route, client })} ${units / UNITS_PER_USD}`);
    }
    const queues = this.#queues?.() ?? [];
    if (queues.length) {
      head("keyward_queue_waiting", "gauge", "Requests waiting for a turn (limits.queue).");
      for (const { route, waiting } of queues) {
        out.push(`keyward_queue_waiting${labels({ route })} ${waiting}`);
      }
      head("keyward_queue_expected_wait_seconds", "gauge", "Expected wait of a request now.");
      for (const { route, expected_wait_ms } of queues) {
        out.push(
          `keyward_queue_expected_wait_seconds${labels({ route })} ${expected_wait_ms / 1000}`,
        );
      }
    }
    return out.join("\n") + "\n";
  }
}

function histogram(map: Map<string, Histogram>, route: string): Histogram {
  let h = map.get(route);
  if (!h) map.set(route, h = new Histogram());
  return h;
}
