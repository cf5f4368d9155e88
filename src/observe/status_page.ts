/**
 * The status page as HTML for people: one self-contained document (inline CSS, charts drawn
 * as inline SVG, one small inline script for the admin token form), nothing fetched from
 * elsewhere. Its Content-Security-Policy allows exactly that style and that script, by hash,
 * and no framing, so an answer that somehow held hostile text still could not run it.
 *
 * @module
 */
import { sha256 } from "../auth/sha256.ts";
import { UNITS_PER_USD } from "../config/units.ts";
import { formatUsd } from "../usd.ts";
import type { RouteSeries, SeriesPoint } from "./route_stats.ts";
import type { RouteStatus, StatusReport, Usage } from "./status.ts";

const STYLE = `
body{font:14px/1.45 "DejaVu Sans",system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
header{background:#1d232b;color:#fff;padding:14px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}main{padding:16px 24px;display:grid;gap:16px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px}
h2{font-size:16px;margin:0 0 6px}h3{font-size:13px;margin:10px 0 4px;color:#4a5562}
code{font:12px "DejaVu Sans Mono",monospace;background:#eef1f4;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px 2px 0;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{font-size:12px;color:#4a5562}
.ok{color:#1a7f37}.bad{color:#b42318}.warn{color:#9a6700}.muted{color:#6b7683}
.allow{max-height:7.5em;overflow:auto}form{display:flex;gap:8px}`;

const SCRIPT = `
document.getElementById("admin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("admin-token").value;
  const note = document.getElementById("admin-note");
  const response = await fetch(location.pathname, {
    headers: { accept: "text/html", authorization: "Bearer " + token },
  });
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const clients = doc.getElementById("clients");
  if (clients && clients.dataset.admin === "true") {
    document.getElementById("clients").replaceWith(clients);
  } else note.textContent = "That is not the admin token";
});`;

function hash(text: string): string {
  return `'sha256-${btoa(String.fromCharCode(...sha256(text)))}'`;
}

/** The page's Content-Security-Policy: its own style and script, nothing from elsewhere. */
export const STATUS_CSP = [
  "default-src 'none'",
  `style-src ${hash(STYLE)}`,
  `script-src ${hash(SCRIPT)}`,
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor(seconds % 86_400 / 3600);
  const m = Math.floor(seconds % 3600 / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return `${m}m ${seconds % 60}s`;
}

const WIDTH = 180;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
const HEIGHT = 44;

/**
 * A bar chart of one field over a series, as inline SVG; errors are drawn over requests.
 * Each bar carries a `<title>` with its numbers.
 */
export function barChart(
  series: RouteSeries,
  field: "requests" | "tokens" | "spend_usd",
  label: string,
): string {
  const points = series.points;
  const max = Math.max(1, ...points.map((p) => p[field]));
  const step = WIDTH / points.length;
  const bar = Math.max(1, step - 2);
  const bars = points.map((p: SeriesPoint, i) => {
    const x = (i * step).toFixed(1);
    const h = (p[field] / max) * (HEIGHT - 2);
    const at = new Date(Date.parse(series.from) + i * series.bucket_ms).toISOString().slice(11, 16);
    const title = field === "requests"
      ? `${at} UTC: ${plural(p.requests, "request")}, ${plural(p.errors, "error")}`
      : field === "tokens"
      ? `${at} UTC: ${plural(p.tokens, "token")}`
      : `${at} UTC: ${dollars(p.spend_usd)}`;
    let out = `<g><title>${title}</title><rect x="${x}" y="${(HEIGHT - h).toFixed(1)}" ` +
      `width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="${
        field === "requests" ? "#3b7dd8" : field === "tokens" ? "#8a63d2" : "#2f9e6b"
      }"/>`;
    if (field === "requests" && p.errors > 0) {
      const e = (p.errors / max) * (HEIGHT - 2);
      out += `<rect x="${x}" y="${(HEIGHT - e).toFixed(1)}" width="${bar.toFixed(1)}" ` +
        `height="${e.toFixed(1)}" fill="#d64545"/>`;
    }
    return out + "</g>";
  }).join("");
  const total = field === "requests"
    ? `${plural(series.total.requests, "request")}, ${plural(series.total.errors, "error")}`
    : field === "tokens"
    ? plural(series.total.tokens, "token")
    : dollars(series.total.spend_usd);
  return `<div class="chart"><div>${escapeHtml(label)}: ${total}</div>` +
    `<svg role="img" aria-label="${escapeHtml(label)}" width="${WIDTH}" height="${HEIGHT}" ` +
    `viewBox="0 0 ${WIDTH} ${HEIGHT}" xmlns="http://www.w3.org/2000/svg">` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#f1f3f6"/>${bars}</svg></div>`;
}

function keysTable(route: RouteStatus): string {
  if (route.keys.length === 0 && route.keys_missing === 0) return "";
  const rows = route.keys.map((key) => {
    const cls = key.state === "healthy" ? "ok" : key.state === "revoked" ? "bad" : "warn";
    const retry = key.retry_at ? ` until ${escapeHtml(key.retry_at)}` : "";
    return `<tr><td><code>${escapeHtml(key.id)}</code></td><td>${escapeHtml(key.origin)}</td>` +
      `<td class="${cls}">${escapeHtml(key.state)}${retry}</td></tr>`;
  }).join("");
  const missing = route.keys_missing
    ? `<tr><td colspan="3" class="bad">${route.keys_missing} key(s) not set: requests get 503</td></tr>`
    : "";
  return `<h3>Keys</h3><table><tr><th>sha256</th><th>from</th><th>state</th></tr>${rows}${missing}</table>`;
}

function routeSection(route: RouteStatus): string {
  const where = route.mode === "path"
    ? `upstream <code>${escapeHtml(route.upstream ?? "")}</code>`
    : `target hosts ${(route.hosts ?? []).map((h) => `<code>${escapeHtml(h)}</code>`).join(" ")}`;
  const limits = Object.entries(route.limits).map(([k, v]) => `${k} ${escapeHtml(v)}`).join(", ");
  const allow = route.allow.map((a) => `<div><code>${escapeHtml(a)}</code></div>`).join("");
  const charts = ["hour", "day"].map((name) => {
    const series = route.stats[name];
    return barChart(series, "requests", `Last ${name}`) +
      barChart(series, "tokens", `Tokens, last ${name}`) +
      (series.total.spend_usd > 0 || route.limits.spend || route.limits["route spend"]
        ? barChart(series, "spend_usd", `Spend, last ${name}`)
        : "");
  }).join("");
  const ceiling = route.ceiling
    ? `<div>all clients together: ${
      (["requests", "tokens", "spend"] as const).flatMap((k) =>
        route.ceiling![k] ? [`${k} ${usageText(route.ceiling![k]!, k === "spend")}`] : []
      ).join("; ")
    }</div>`
    : "";
  return `<section class="route" id="route-${escapeHtml(route.route)}">
<h2>${escapeHtml(route.route)} <span class="muted">${escapeHtml(route.path)}</span></h2>
<div>${where}; limits: ${limits || "none"}; queue: ${route.queue.length} waiting, expected wait ${
    Math.round(route.queue.expected_wait_ms / 1000)
  } s</div>
${ceiling}
<h3>Allowed</h3><div class="allow">${allow || '<span class="muted">nothing</span>'}</div>
${keysTable(route)}
<h3>Traffic</h3><div class="charts">${charts}</div>
</section>`;
}

/** A dollar amount from a report (floating dollars), exactly to the unit. */
function dollars(usd: number): string {
  return formatUsd(Math.round(usd * UNITS_PER_USD));
}

function usageText(usage: Usage, spend: boolean): string {
  const amount = (n: number) => spend ? dollars(n) : String(n);
  return `${amount(usage.used)} of ${escapeHtml(usage.window)}, ${amount(usage.remaining)} left` +
    ` (resets in ${duration(usage.reset_s)})`;
}

function usageCell(usage: Usage | undefined, spend = false): string {
  if (!usage) return '<td class="muted">-</td>';
  const cls = usage.remaining === 0 ? "bad" : "";
  return `<td class="${cls}">${usageText(usage, spend)}</td>`;
}

function clientsSection(report: StatusReport): string {
  if (!report.clients) {
    return `<section id="clients" data-admin="false"><h2>Clients</h2>
<form id="admin-form"><input id="admin-token" type="password" autocomplete="off"
 placeholder="admin token" aria-label="admin token"><button>Show usage</button></form>
<p id="admin-note" class="muted">Each client's usage and remaining budget need the admin token.</p>
</section>`;
  }
  const rows = report.clients.flatMap((client) =>
    client.routes.length === 0
      ? [`<tr><td>${escapeHtml(client.id)}</td><td colspan="4" class="muted">no limits</td></tr>`]
      : client.routes.map((r) =>
        `<tr><td>${escapeHtml(client.id)}</td><td>${escapeHtml(r.route)}</td>${
          usageCell(r.requests)
        }${usageCell(r.tokens)}${usageCell(r.spend, true)}</tr>`
      )
  ).join("");
  return `<section id="clients" data-admin="true"><h2>Clients</h2>
<table><tr><th>client</th><th>route</th><th>requests</th><th>tokens</th><th>spend</th></tr>${rows}</table></section>`;
}

/** Renders the status report as a whole HTML document. */
export function renderStatusPage(report: StatusReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>keyward status</title><style>${STYLE}</style></head>
<body><header><h1>keyward status</h1><span>up ${duration(report.uptime_s)}</span>
<span class="muted">since ${escapeHtml(report.started)}</span>
<span>${report.routes.length} routes</span></header>
<main>
${report.routes.map(routeSection).join("\n")}
${clientsSection(report)}
</main>
<script>${SCRIPT}</script>
</body></html>`;
}
