/**
 * `keyward check`: validate a config and print its route table, with warnings for what
 * would fail at run time (a key that is not set).
 *
 * @module
 */
import { ConfigError } from "./config/issues.ts";
import { loadConfigFile } from "./config/load_file.ts";
import type { Config, RouteLimitsConfig } from "./config/types.ts";
import { rateText } from "./config/units.ts";
import { originOf } from "./money/price_list.ts";
import { loadPrices, type PriceBook } from "./money/prices.ts";
import { formatUsd, spendRateText } from "./usd.ts";
import type { KeyReaders } from "./keys/source.ts";
import { type CompiledRoute, compileRoute } from "./route.ts";
import { resolveTimeouts } from "./config/timeouts.ts";
import { compileLimits } from "./limits/plan.ts";
import { budgetClamp } from "./budget/reserve.ts";
import { visitorNotes } from "./visitors/check_notes.ts";

/** The outcome of checking a config: a printable report and whether it is usable. */
export interface CheckResult {
  /** True when the config is valid (warnings allowed). */
  ok: boolean;
  /** The route table and warnings, or every error as `FILE:LINE:COL message`. */
  report: string;
}

/**
 * Validates a config file and describes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkConfig } from "./check.ts";
 *
 * const { ok, report } = await checkConfig("routes.yaml");
 * assert.ok(ok, report); // report: the route table, and a warning for each key that is not set
 * ```
 */
export async function checkConfig(path: string, readers?: KeyReaders): Promise<CheckResult> {
  let loaded;
  try {
    loaded = await loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, report: error.message };
    throw error;
  }
  const routes = loaded.config.routes.map((route) => compileRoute(route, readers));
  const defaultAuth = loaded.config.server?.auth ?? "none";
  const rows = routes.map((route) => [
    route.name,
    route.path,
    route.target ? "target" : "path",
    destination(route),
    String(route.allowList.length),
    route.keys ? route.keys.keys.map((k) => k.origin).concat(route.keys.missing).join(",") : "-",
    authName(route.config.auth ?? defaultAuth),
    limitsSummary(route.config.limits),
  ]);
  const lines = [`${path}: ${routes.length} route${routes.length === 1 ? "" : "s"}`, ""];
  lines.push(
    ...table(["NAME", "PATH", "MODE", "UPSTREAM", "ALLOW", "KEY", "AUTH", "LIMITS"], rows),
  );
  const timeouts = resolveTimeouts(loaded.config.server?.timeouts);
  lines.push(
    "",
    `quiet clients are dropped after: header ${duration(timeouts.header)}, ` +
      `body ${duration(timeouts.body)}, idle ${duration(timeouts.idle)}`,
  );
  const budgets = await budgetNotes(loaded.config, routes, path, loaded.locate);
  lines.push(...budgets.notes);
  const warnings: string[] = [...budgets.warnings];
  routes.forEach((route, i) => {
    for (const missing of route.keys?.missing ?? []) {
      const at = loaded.locate(route.config.key ? ["routes", i, "key"] : ["routes", i]);
      warnings.push(
        `warning: ${path}:${at.line}:${at.col} route ${route.name}: key ${missing} is not set; ` +
          "its requests will get 503",
      );
    }
  });
  warnings.push(...credentialWarnings(loaded, path, routes));
  const visitors = visitorNotes(loaded.config, path, loaded.locate);
  lines.push(...visitors.notes);
  warnings.push(...visitors.warnings);
  if (warnings.length) lines.push("", ...warnings);
  return { ok: true, report: lines.join("\n") };
}

/** The target header of the `@inferencesh/sdk` proxy protocol. */
const INFERENCE_SDK_HEADER = "x-inf-target-url";

/**
 * `@inferencesh/sdk` in proxy mode calls with `credentials: "include"`: under `server.cors`
 * without `credentials: true` a browser refuses every answer, so a route for it says so.
 */
function credentialWarnings(
  loaded: { config: { server?: { cors?: { credentials?: boolean } } }; locate: Locate },
  path: string,
  routes: readonly CompiledRoute[],
): string[] {
  const cors = loaded.config.server?.cors;
  if (!cors || cors.credentials === true) return [];
  const warnings: string[] = [];
  routes.forEach((route, i) => {
    if (route.targetConfig?.header?.toLowerCase() !== INFERENCE_SDK_HEADER) return;
    const at = loaded.locate(["routes", i]);
    warnings.push(
      `warning: ${path}:${at.line}:${at.col} route ${route.name}: @inferencesh/sdk sends ` +
        "credentialed requests; set server.cors.credentials: true, or browsers refuse every answer",
    );
  });
  return warnings;
}

type Locate = (path: readonly PropertyKey[]) => { line: number; col: number };

/** The upstream, or a target route's hosts and where the client names its URL (merged). */
function destination(route: CompiledRoute): string {
  if (route.upstream) return route.upstream.href.replace(/\/$/, "");
  const { hosts, header, query } = route.targetConfig!;
  const from = [header, query && `?${query}`].filter(Boolean).join(", ");
  return `${hosts.join(" ")} via ${from}`;
}

function authName(auth: unknown): string {
  if (typeof auth === "string") return auth;
  return Object.keys(auth as object)[0] ?? "none";
}

function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function size(bytes: number): string {
  for (const [factor, unit] of [[1024 ** 3, "gb"], [1024 ** 2, "mb"], [1024, "kb"]] as const) {
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}b`;
}

/**
 * How each route with a budget in tokens or dollars reserves, the output clamp it gets by
 * default, and on a route that counts dollars, the price of each model its `body.models`
 * allows (a model without one is a warning: its requests get 400).
 */
async function budgetNotes(
  config: Config,
  routes: readonly CompiledRoute[],
  file: string,
  locate: Locate,
): Promise<{ notes: string[]; warnings: string[] }> {
  const notes: string[] = [];
  const warnings: string[] = [];
  let book: PriceBook | undefined;
  for (const [i, route] of routes.entries()) {
    const limits = compileLimits(
      route.config.limits,
      config.clients ?? [],
      route.usage !== undefined,
    );
    if (!limits.tokens && !limits.spend) continue;
    const own = route.config.body?.max_tokens;
    const clamp = budgetClamp(own, limits);
    const what = limits.spend ? (limits.tokens ? "tokens and dollars" : "dollars") : "tokens";
    notes.push(
      `route ${route.name}: its budgets in ${what} reserve each request's input as the ` +
        `provider counts it + ${clamp} output tokens ` +
        (own === undefined
          ? `(max_tokens clamped to ${clamp} by default; set body.max_tokens to change)`
          : "(body.max_tokens)"),
    );
    if (!limits.spend) continue;
    book ??= await loadPrices(config.prices);
    for (const [j, model] of (route.config.body?.models ?? []).entries()) {
      const price = book.lookup(model);
      if (!price) {
        const at = locate(["routes", i, "body", "models", j]);
        warnings.push(
          `warning: ${file}:${at.line}:${at.col} route ${route.name}: model ${model} has no ` +
            "price; its requests get 400 (add it under prices:)",
        );
        continue;
      }
      const kinds = (["input", "cached_input", "output"] as const).map((kind) =>
        `${kind} ${formatUsd(Number(price.prices[kind].base))}`
      );
      notes.push(
        `  ${model}: USD per 1M tokens ${kinds.join(", ")} (${originOf(price, book, file)})`,
      );
    }
  }
  return { notes: notes.length ? ["", ...notes] : [], warnings };
}

function limitsSummary(limits: RouteLimitsConfig | undefined): string {
  const parts: string[] = [];
  if (limits?.requests) parts.push(`${rateText(limits.requests)} requests`);
  if (limits?.tokens) parts.push(`${rateText(limits.tokens)} tokens`);
  if (limits?.spend) parts.push(`${spendRateText(limits.spend)} spend`);
  const ceiling = limits?.route;
  if (ceiling) {
    const all = [
      ceiling.requests && `${rateText(ceiling.requests)} requests`,
      ceiling.concurrent && `${ceiling.concurrent} in flight`,
      ceiling.tokens && `${rateText(ceiling.tokens)} tokens`,
      ceiling.spend && `${spendRateText(ceiling.spend)} spend`,
    ].filter(Boolean);
    if (all.length) parts.push(`route: ${all.join(", ")}`);
  }
  if (limits?.concurrent) parts.push(`${limits.concurrent} in flight`);
  if (limits?.body !== undefined) parts.push(`body ${size(limits.body)}`);
  if (limits?.queue !== undefined) parts.push(`queue ${duration(limits.queue)}`);
  return parts.join(", ") || "-";
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i])).join("  ");
  return [line(header), ...rows.map(line)];
}
