/**
 * `keyward prices [--model M] [--config FILE]`: what each model will be charged, per kind of
 * token, and where each price comes from (the built-in table or `prices:` in a config).
 *
 * @module
 */
import { flags } from "../cli_flags.ts";
import {
  type KindPrice,
  type ModelPrice,
  PRICE_FALLBACK,
  PRICE_KINDS,
  type PriceBook,
  type PriceKind,
} from "./prices.ts";

/** Usage of the `prices` command. */
export const PRICES_USAGE = `Usage:
  keyward prices [--model M] [--config FILE]

Lists the price per 1M tokens of each model, per kind of token, and where it comes from: the
built-in table, or prices: in FILE (which adds models and overrides the table). With --model,
shows the one price a request naming M is charged at, or exits 1 when M has none.`;

/** What the `prices` command was asked. */
export interface PricesArgs {
  /** The model to show alone. */
  model?: string;
  /** The config whose `prices:` to apply. */
  config?: string;
}

/**
 * Parses the flags after `prices`; throws an Error with a message for the user.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePricesArgs } from "./price_list.ts";
 *
 * assert.deepEqual(parsePricesArgs(["--model", "gpt-4o-mini", "-c", "routes.yaml"]), {
 *   model: "gpt-4o-mini",
 *   config: "routes.yaml",
 * });
 * ```
 */
export function parsePricesArgs(argv: readonly string[]): PricesArgs {
  const args: PricesArgs = {};
  for (const { name, value } of flags(argv)) {
    if (name === "--model" || name === "-m") args.model = value();
    else if (name === "--config" || name === "-c") args.config = value();
    else throw new Error(`Unknown option "${name}"`);
  }
  return args;
}

/** A price in price units (USD per 1M tokens × 1e8) as an exact decimal of USD. */
function dollars(units: bigint): string {
  const text = units.toString().padStart(9, "0");
  const decimals = text.slice(-8).replace(/0+$/, "");
  return decimals ? `${text.slice(0, -8)}.${decimals}` : text.slice(0, -8);
}

/** A kind's price as text: `3`, or `3 (6 above 200000)` with tiers. */
function priceText(price: KindPrice): string {
  const tiers = price.tiers.map((tier) => `${dollars(tier.price)} above ${tier.above}`);
  return tiers.length ? `${dollars(price.base)} (${tiers.join(", ")})` : dollars(price.base);
}

/** Where a kind without a price of its own takes it from, or undefined when it has one. */
function fallbackOf(model: ModelPrice, kind: PriceKind): PriceKind | "free" | undefined {
  if (model.explicit.has(kind)) return undefined;
  return PRICE_FALLBACK[kind].find((parent) => model.explicit.has(parent)) ?? "free";
}

/** The sentence naming where a model's price comes from. */
export function originOf(model: ModelPrice, book: PriceBook, config?: string): string {
  if (model.source === "prices:") {
    const replaces = model.replaces ? `, replacing the table's ${model.replaces}` : "";
    return `prices: in ${config ?? "the config"}${replaces}`;
  }
  return `snapshot ${tableOrigin(book)}`;
}

/** The built-in table's package, version, licence and date. */
function tableOrigin(book: PriceBook): string {
  const table = book.snapshot;
  return table
    ? `${table.source}@${table.version} (${table.license}, generated ${table.generated})`
    : "(not loaded)";
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
}

/** A kind's price in the list: its base, `*` when it has tiers, `-` when it falls back. */
function cellText(model: ModelPrice, kind: PriceKind): string {
  const fallback = fallbackOf(model, kind);
  if (fallback) return fallback === "free" ? "0" : "-";
  const price = model.prices[kind];
  return dollars(price.base) + (price.tiers.length ? "*" : "");
}

const COLUMNS: PriceKind[] = ["input", "cached_input", "cache_write", "cache_write_1h", "output"];

/**
 * The list of every model `book` prices at time `at`: one row each, the main kinds in
 * columns, the other kinds it prices itself after them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listPrices } from "./price_list.ts";
 * import { compilePrices } from "./prices.ts";
 *
 * const book = compilePrices(null, { "my-finetune": { input: 1, output: 4, audio_input: 8 } });
 * const text = listPrices(book, { config: "routes.yaml" });
 * assert.match(text, /my-finetune\s+1\s+-\s+-\s+-\s+4\s+prices: in routes\.yaml\s+audio_input 8/);
 * ```
 */
export function listPrices(
  book: PriceBook,
  options: { at?: number; config?: string } = {},
): string {
  const rows = [["MODEL", ...COLUMNS.map((kind) => kind.toUpperCase()), "SOURCE", "OTHER"]];
  for (const model of book.models(options.at)) {
    const other = PRICE_KINDS.filter((kind) => !COLUMNS.includes(kind) && model.explicit.has(kind))
      .map((kind) => `${kind} ${cellText(model, kind)}`);
    if (model.until) other.push(`changes ${model.until}`);
    rows.push([
      model.id,
      ...COLUMNS.map((kind) => cellText(model, kind)),
      model.source === "prices:" ? `prices: in ${options.config ?? "the config"}` : "snapshot",
      other.join(", ") || "-",
    ]);
  }
  const head = [
    "USD per 1M tokens. -: priced as input (input kinds) or output (output kinds); " +
    "*: more past a number of input tokens (--model M shows the tiers).",
  ];
  if (book.snapshot) head.push(`snapshot: the built-in table, ${tableOrigin(book)}`);
  return [...head, "", ...table(rows)].join("\n");
}

/**
 * The price a request naming `name` is charged at time `at`, kind by kind, and where it
 * comes from; undefined when the book has no price for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeModel } from "./price_list.ts";
 * import { compilePrices } from "./prices.ts";
 *
 * const book = compilePrices(null, { "my-finetune": { input: 1, output: 4 } });
 * const text = describeModel(book, "models/my-finetune", { config: "routes.yaml" })!;
 * assert.match(text, /^models\/my-finetune: priced as my-finetune, from prices: in routes\.yaml/);
 * assert.match(text, /cached_input\s+1\s+as input/);
 * assert.equal(describeModel(book, "gpt-4o"), undefined);
 * ```
 */
export function describeModel(
  book: PriceBook,
  name: string,
  options: { at?: number; config?: string } = {},
): string | undefined {
  const model = book.lookup(name, options.at);
  if (!model) return undefined;
  const lines = [
    `${name}: priced as ${model.id}, from ${originOf(model, book, options.config)}`,
  ];
  if (model.from) lines.push(`in effect since ${model.from}`);
  if (model.contextWindow) lines.push(`context window: ${model.contextWindow} tokens`);
  lines.push("USD per 1M tokens:");
  const rows = PRICE_KINDS.map((kind) => {
    const fallback = fallbackOf(model, kind);
    const note = fallback === "free" ? "not priced: free" : fallback ? `as ${fallback}` : "";
    return [`  ${kind}`, priceText(model.prices[kind]), note];
  });
  lines.push(...table(rows));
  if (model.until) {
    const next = book.lookup(name, Date.parse(model.until));
    if (next) {
      const changed = PRICE_KINDS.filter((kind) =>
        next.explicit.has(kind) && priceText(next.prices[kind]) !== priceText(model.prices[kind])
      ).map((kind) => `${kind} ${priceText(next.prices[kind])}`);
      lines.push(`from ${model.until}: ${changed.join(", ") || "the same prices"}`);
    }
  }
  return lines.join("\n");
}
