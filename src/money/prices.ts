/**
 * The price book: what each model costs per kind of token, from two sources.
 *
 * - The built-in table, `prices.snapshot.json`: a snapshot of the npm package
 *   `@pydantic/genai-prices` (MIT) for the models of OpenAI, Anthropic and Gemini, written by
 *   `scripts/prices_refresh.ts`, which names its version and the date it was taken. It keeps
 *   the source's match rules (a model's dated and aliased names), tiers (a whole kind costs
 *   more once a request's input passes a number of tokens) and dated price changes. It is
 *   loaded only when asked for ({@linkcode loadSnapshot}): by routes with spend limits and by
 *   `keyward prices`.
 * - `prices:` in routes.yaml ({@linkcode PriceConfig}), which adds models and overrides the
 *   table. An entry applies to its exact name; one named as the table's model id applies to
 *   every name of that model too (`gpt-4o-mini` covers `gpt-4o-mini-2024-07-18`).
 *
 * Prices are USD per 1M tokens, written as exact decimals of at most 8 places, and kept as
 * BigInt "price units" of USD per 1M tokens × 1e8 (the price of one token in 1e-14 USD), so
 * costs are exact (see `cost.ts`). A kind without a price of its own costs what its parent
 * costs ({@linkcode PRICE_FALLBACK}: cached input as input, 1 hour cache writes as 5 minute
 * ones, reasoning as output, and so on); in the built-in table a kind with no price anywhere
 * up its line is free, as its source has it (embedding models price no output).
 *
 * @module
 */
import { compileMatch, type Matcher, type MatchRule } from "./match.ts";
import { unitsOf } from "../config/units.ts";
import { USAGE_KINDS, type UsageKind } from "../usage/meter.ts";

/** A kind of token priced apart: the kinds of usage (see `USAGE_KINDS` in usage/meter.ts). */
export type PriceKind = UsageKind;

/** Every kind a price book prices, input side first. */
export const PRICE_KINDS: readonly PriceKind[] = USAGE_KINDS;

/**
 * Where a kind without a price of its own takes one: the first kind of its list that has a
 * price of its own (as `@pydantic/genai-prices` falls back to the most specific priced
 * parent). `input` and `output` fall back to nothing.
 */
export const PRICE_FALLBACK: Readonly<Record<PriceKind, readonly PriceKind[]>> = {
  input: [],
  cached_input: ["input"],
  cache_write: ["input"],
  cache_write_1h: ["cache_write", "input"],
  audio_input: ["input"],
  cached_audio_input: ["audio_input", "cached_input", "input"],
  image_input: ["input"],
  cached_image_input: ["image_input", "cached_input", "input"],
  video_input: ["input"],
  cached_video_input: ["video_input", "cached_input", "input"],
  output: [],
  reasoning: ["output"],
  audio_output: ["output"],
  image_output: ["output"],
  video_output: ["output"],
};

/** A price as routes.yaml writes it: USD per 1M tokens, a number or a decimal string. */
export type PriceValue = number | string;

/**
 * One entry of `prices:` in routes.yaml: USD per 1M tokens of each kind. `input` and `output`
 * are required; every other kind falls back ({@linkcode PRICE_FALLBACK}) to them.
 * `context_window`, when given, bounds the input of requests whose size cannot be known.
 */
export type PriceConfig =
  & { input: PriceValue; output: PriceValue; context_window?: number }
  & { [K in Exclude<PriceKind, "input" | "output">]?: PriceValue };

/** A tier: once a request's input passes `above` tokens, the whole kind costs `price`. */
export interface PriceTier {
  /** Input tokens the request must pass. */
  above: number;
  /** The price then, in price units (USD per 1M tokens × 1e8). */
  price: bigint;
}

/** The price of one kind, in price units (USD per 1M tokens × 1e8). */
export interface KindPrice {
  /** The price below every tier. */
  base: bigint;
  /** Higher prices by the request's input tokens, by `above` ascending (often none). */
  tiers: readonly PriceTier[];
}

/** What a model costs. */
export interface ModelPrice {
  /** The model as its source names it: the table's model id, or the `prices:` key. */
  id: string;
  /** Where the price comes from. */
  source: "snapshot" | "prices:";
  /** The table's provider (`openai`, `anthropic`, `gemini`), for a price from the table. */
  provider?: string;
  /** Every kind's price, fallbacks applied. */
  prices: Readonly<Record<PriceKind, KindPrice>>;
  /** The kinds the source prices itself; the others fall back. */
  explicit: ReadonlySet<PriceKind>;
  /** The most input tokens the model takes, when known. */
  contextWindow?: number;
  /** The day (YYYY-MM-DD, UTC) this price began, for a price the table dates. */
  from?: string;
  /** The day the next price begins, when the table knows of one. */
  until?: string;
  /** The id of the table's model this `prices:` entry overrides. */
  replaces?: string;
}

/** What the built-in table is and where it came from. */
export interface SnapshotInfo {
  /** The npm package the table was taken from. */
  source: string;
  /** Its version. */
  version: string;
  /** Its licence. */
  license: string;
  /** The licence text. */
  licenseUrl: string;
  /** The day the snapshot was taken (YYYY-MM-DD). */
  generated: string;
}

/** A price of the snapshot: a decimal string, or tiers by the request's input. */
export type SnapshotPrice = string | { base: string; tiers: { above: number; price: string }[] };

/** The built-in table as `prices.snapshot.json` holds it. */
export interface PriceSnapshot {
  source: string;
  version: string;
  license: string;
  license_url: string;
  generated: string;
  providers: Record<string, {
    id: string;
    match: MatchRule;
    prices:
      | Record<string, SnapshotPrice>
      | { from?: string; prices: Record<string, SnapshotPrice> }[];
    context_window?: number;
  }[]>;
}

/** A price book: the built-in table and `prices:` together. */
export interface PriceBook {
  /** The built-in table's origin, when the book has it. */
  readonly snapshot?: SnapshotInfo;
  /**
   * The price of `model` at time `at` (ms since the epoch; default now), or undefined when
   * neither `prices:` nor the table knows it. See {@linkcode modelName} for the names it
   * reads.
   */
  lookup(model: string, at?: number): ModelPrice | undefined;
  /** Every model the book prices at time `at`: `prices:` first, then the table's. */
  models(at?: number): ModelPrice[];
}

let snapshotLoad: Promise<PriceSnapshot> | undefined;

/**
 * Loads the built-in table (once; later calls share the first load). The table is a JSON
 * module imported only here, so the gateway loads it only when something needs prices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSnapshot } from "./prices.ts";
 *
 * const snapshot = await loadSnapshot();
 * assert.equal(snapshot.source, "@pydantic/genai-prices");
 * assert.ok(snapshot.providers.openai.some((model) => model.id === "gpt-4o-mini"));
 * ```
 */
export function loadSnapshot(): Promise<PriceSnapshot> {
  return snapshotLoad ??= import("./prices.snapshot.json", { with: { type: "json" } })
    .then((module) => module.default as unknown as PriceSnapshot);
}

/**
 * Loads the built-in table and compiles a book of it and `overrides` (`prices:`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPrices } from "./prices.ts";
 *
 * const book = await loadPrices({ "my-finetune": { input: 1, output: 4 } });
 * assert.equal(book.lookup("gpt-4o-mini-2024-07-18")?.id, "gpt-4o-mini");
 * assert.equal(book.lookup("my-finetune")?.source, "prices:");
 * ```
 */
export async function loadPrices(overrides?: Record<string, PriceConfig>): Promise<PriceBook> {
  return compilePrices(await loadSnapshot(), overrides);
}

/**
 * Reads a price (USD per 1M tokens: a number, or a decimal string) into price units (USD per
 * 1M tokens × 1e8). Throws, naming `where`, for a negative price, one of more than 8
 * decimals, or anything but a plain decimal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrice } from "./prices.ts";
 *
 * assert.equal(parsePrice(0.075), 7_500_000n);
 * assert.equal(parsePrice("2.5"), 250_000_000n);
 * assert.throws(() => parsePrice("0.123456789", "my-model input"), /at most 8 decimals/);
 * ```
 */
export function parsePrice(value: PriceValue, where = "price"): bigint {
  const units = unitsOf(value);
  if (units === undefined) {
    throw new Error(
      `Cannot read ${where} ${JSON.stringify(value)}: use USD per 1M tokens, such as 0.15`,
    );
  }
  if (units === "too fine") {
    throw new Error(`Cannot read ${where} ${JSON.stringify(value)}: use at most 8 decimals`);
  }
  return units;
}

/**
 * The name a price is looked up by: trimmed, without a resource path's `models/` (Gemini's
 * `models/gemini-2.5-flash`, Vertex's `publishers/google/models/...`, and a method after it,
 * `:generateContent`) and without a vendor's prefix (`google/`, `openai/`, `anthropic/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelName } from "./prices.ts";
 *
 * assert.equal(modelName("models/gemini-2.5-flash:streamGenerateContent"), "gemini-2.5-flash");
 * assert.equal(modelName("google/gemini-2.5-pro"), "gemini-2.5-pro");
 * assert.equal(modelName("ft:gpt-4o-mini-2024-07-18:org::x1"), "ft:gpt-4o-mini-2024-07-18:org::x1");
 * ```
 */
export function modelName(model: string): string {
  let name = model.trim();
  const resource = name.lastIndexOf("models/");
  if (resource !== -1) name = name.slice(resource + 7).replace(/:[A-Za-z]+$/, "");
  return name.replace(/^(?:google|openai|anthropic)\//i, "");
}

/** `-YYYYMMDD` written as `-YYYY-MM-DD`, as some of the table's rules spell dates. */
function dashedDates(name: string): string {
  return name.replace(
    /-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g,
    (_, year, month, day) => `-${year}-${month}-${day}`,
  );
}

/** A table model, compiled: its match rule and its prices by date. */
interface Entry {
  id: string;
  provider: string;
  matches: Matcher;
  /** Its prices, oldest first; `from` in ms since the epoch. */
  dated: { from?: number; price: ModelPrice }[];
}

/** Compiles one set of prices; `free` says an unpriced kind costs nothing (else: throw). */
function compileKinds(
  given: Record<string, SnapshotPrice | PriceValue | undefined>,
  where: string,
  free: boolean,
): { prices: Record<PriceKind, KindPrice>; explicit: Set<PriceKind> } {
  const own = new Map<PriceKind, KindPrice>();
  for (const [kind, value] of Object.entries(given)) {
    if (value === undefined || kind === "context_window") continue;
    if (!(PRICE_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`Cannot read ${where}: unknown kind "${kind}"`);
    }
    const at = `${where} ${kind}`;
    own.set(
      kind as PriceKind,
      typeof value === "object"
        ? {
          base: parsePrice(value.base, at),
          tiers: value.tiers.map((tier) => ({
            above: tier.above,
            price: parsePrice(tier.price, at),
          }))
            .sort((a, b) => a.above - b.above),
        }
        : { base: parsePrice(value, at), tiers: [] },
    );
  }
  const nothing: KindPrice = { base: 0n, tiers: [] };
  const prices = {} as Record<PriceKind, KindPrice>;
  for (const kind of PRICE_KINDS) {
    let price = own.get(kind);
    for (const parent of PRICE_FALLBACK[kind]) price ??= own.get(parent);
    if (!price && !free) throw new Error(`Cannot read ${where}: ${kind} has no price`);
    prices[kind] = price ?? nothing;
  }
  return { prices, explicit: new Set(own.keys()) };
}

/**
 * Compiles a price book from the built-in table (`snapshot`, from {@linkcode loadSnapshot};
 * null for `prices:` alone) and `overrides` (`prices:`). Throws, naming the model and the
 * kind, on a price it cannot read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compilePrices, loadSnapshot } from "./prices.ts";
 *
 * const book = compilePrices(await loadSnapshot(), {
 *   "gpt-4o-mini": { input: 0.15, output: 0.6, cached_input: 0.075 },
 *   "my-finetune": { input: "1.00", output: "4.00" },
 * });
 * const mini = book.lookup("gpt-4o-mini-2024-07-18")!;
 * assert.equal(mini.source, "prices:"); // the override covers the table's other names
 * assert.equal(mini.prices.cached_input.base, 7_500_000n); // $0.075 per 1M tokens
 * assert.equal(book.lookup("my-finetune")!.prices.cached_input.base, 100_000_000n); // = input
 * assert.equal(book.lookup("models/gemini-2.5-flash")!.id, "gemini-2.5-flash");
 * assert.equal(book.lookup("no-such-model"), undefined);
 * ```
 */
export function compilePrices(
  snapshot: PriceSnapshot | null,
  overrides: Record<string, PriceConfig> = {},
): PriceBook {
  const entries: Entry[] = [];
  for (const [provider, models] of Object.entries(snapshot?.providers ?? {})) {
    for (const model of models) {
      const where = `price of ${model.id}`;
      const list = Array.isArray(model.prices) ? model.prices : [{ prices: model.prices }];
      const dated = list.map((entry, i) => {
        const next = list[i + 1]?.from;
        const from = entry.from;
        return {
          from: from ? Date.parse(from) : undefined,
          price: {
            id: model.id,
            source: "snapshot" as const,
            provider,
            ...compileKinds(entry.prices, where, true),
            ...(model.context_window ? { contextWindow: model.context_window } : {}),
            ...(from ? { from: from.slice(0, 10) } : {}),
            ...(next ? { until: next.slice(0, 10) } : {}),
          },
        };
      });
      entries.push({ id: model.id, provider, matches: compileMatch(model.match), dated });
    }
  }

  const find = (model: string): Entry | undefined => {
    const name = modelName(model);
    for (const candidate of new Set([name, dashedDates(name)])) {
      const lower = candidate.toLowerCase();
      const entry = entries.find((entry) => entry.matches(candidate, lower));
      if (entry) return entry;
    }
    return undefined;
  };

  const own = new Map<string, ModelPrice>();
  const replacing = new Map<Entry, ModelPrice>();
  for (const [name, config] of Object.entries(overrides)) {
    const entry = find(name);
    // An override of the table's model itself (by its id) covers all the model's names.
    const replaced = entry?.id.toLowerCase() === modelName(name).toLowerCase();
    const price: ModelPrice = {
      id: name,
      source: "prices:",
      ...compileKinds(config, `price of ${name}`, false),
      ...(config.context_window ? { contextWindow: config.context_window } : {}),
      ...(replaced ? { replaces: entry!.id } : {}),
    };
    own.set(name, price);
    if (entry && replaced) replacing.set(entry, price);
  }

  const dated = (entry: Entry, at: number): ModelPrice => {
    const { dated } = entry;
    for (let i = dated.length - 1; i >= 0; i--) {
      const from = dated[i].from;
      if (from === undefined || at >= from) return dated[i].price;
    }
    return dated[0].price;
  };

  // Names come from clients: remember a bounded number of them.
  const found = new Map<string, Entry | ModelPrice | null>();
  const resolve = (model: string): Entry | ModelPrice | null => {
    let hit = found.get(model);
    if (hit !== undefined) return hit;
    hit = own.get(model) ?? own.get(modelName(model)) ?? null;
    if (!hit) {
      const entry = find(model);
      hit = entry ? replacing.get(entry) ?? entry : null;
    }
    if (found.size >= 4096) found.clear();
    found.set(model, hit);
    return hit;
  };

  return {
    snapshot: snapshot
      ? {
        source: snapshot.source,
        version: snapshot.version,
        license: snapshot.license,
        licenseUrl: snapshot.license_url,
        generated: snapshot.generated,
      }
      : undefined,
    lookup(model, at = Date.now()) {
      const hit = resolve(model);
      if (!hit) return undefined;
      return "matches" in hit ? dated(hit, at) : hit;
    },
    models(at = Date.now()) {
      return [
        ...own.values(),
        ...entries.filter((entry) => !replacing.has(entry)).map((entry) => dated(entry, at)),
      ];
    },
  };
}
