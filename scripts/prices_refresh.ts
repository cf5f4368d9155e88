/**
 * `deno run -A scripts/prices_refresh.ts [VERSION]`: regenerates the built-in price table,
 * `src/money/prices.snapshot.json`, from the npm package `@pydantic/genai-prices` (MIT,
 * https://github.com/pydantic/genai-prices), at VERSION or the latest the registry names, and
 * prints what changed.
 *
 * - Providers: `openai`, `anthropic`, and `google`'s Gemini and Gemma models (filed under
 *   `gemini`, the preset's name).
 * - Prices become exact decimal strings of USD per 1M tokens (at most 8 decimals, or the
 *   script fails), under keyward's names ({@linkcode KINDS}); tiers become
 *   `{ base, tiers: [{ above, price }] }` (the whole kind costs `price` once a request's input
 *   passes `above` tokens); date-conditional prices become `[{ prices }, { from, prices }]`;
 *   match rules and context windows are kept as the source has them.
 * - Left out, and listed in the snapshot: prices that are not per token (web searches per
 *   thousand calls, audio per hour), and models priced only that way. A token price this
 *   script does not know fails the refresh, so nothing is silently priced at a wrong kind.
 *
 * The table is read by `src/money/prices.ts`. Run this by hand or in a scheduled job, never at
 * run time: the gateway has no network guarantee.
 *
 * @module
 */

import { decimalOf } from "../src/config/units.ts";

const PACKAGE = "@pydantic/genai-prices";
const OUT = new URL("../src/money/prices.snapshot.json", import.meta.url);

/** genai-prices price keys (USD per 1M tokens) and keyward's name for each. */
export const KINDS: Record<string, string> = {
  input_mtok: "input",
  cache_read_mtok: "cached_input",
  cache_write_mtok: "cache_write",
  cache_write_1h_mtok: "cache_write_1h",
  input_audio_mtok: "audio_input",
  cache_audio_read_mtok: "cached_audio_input",
  input_image_mtok: "image_input",
  cache_image_read_mtok: "cached_image_input",
  input_video_mtok: "video_input",
  cache_video_read_mtok: "cached_video_input",
  output_mtok: "output",
  output_reasoning_mtok: "reasoning",
  output_audio_mtok: "audio_output",
  output_image_mtok: "image_output",
  output_video_mtok: "video_output",
};

/** Providers of the source, and the preset each is filed under. */
const PROVIDERS: [source: string, preset: string, keep: (id: string) => boolean][] = [
  ["openai", "openai", () => true],
  ["anthropic", "anthropic", () => true],
  ["google", "gemini", (id) => /gemini|gemma/i.test(id)], // Vertex serves Claude too
];

type Tiered = { base: number; tiers: { start: number; price: number }[] };
type SourcePrices = Record<string, number | Tiered | undefined>;
interface SourceModel {
  id: string;
  match: unknown;
  prices: SourcePrices | { constraint?: Record<string, string>; prices: SourcePrices }[];
  context_window?: number;
}

/** The snapshot's price of one kind: a decimal string, or tiers by the request's input. */
export type SnapshotPrice = string | { base: string; tiers: { above: number; price: string }[] };

/** One model of the snapshot. */
export interface SnapshotModel {
  id: string;
  match: unknown;
  prices: Record<string, SnapshotPrice> | {
    from?: string;
    prices: Record<string, SnapshotPrice>;
  }[];
  context_window?: number;
}

/** The exact decimal a number is written as, checked to have at most 8 places. */
export function decimal(value: number, where: string): string {
  const text = decimalOf(value);
  if (text === undefined || !/^\d+(\.\d{1,8})?$/.test(text)) {
    throw new Error(`${where}: ${value} is not a price of at most 8 decimals`);
  }
  return text;
}

/** Converts one set of source prices; records the keys left out in `leftOut`. */
function convert(prices: SourcePrices, where: string, leftOut: Set<string>) {
  const out: Record<string, SnapshotPrice> = {};
  for (const [key, value] of Object.entries(prices)) {
    if (value === undefined) continue;
    const kind = KINDS[key];
    if (!kind) {
      if (key.endsWith("_mtok")) throw new Error(`${where}: unknown token price ${key}`);
      leftOut.add(key);
      continue;
    }
    out[kind] = typeof value === "number" ? decimal(value, `${where}.${key}`) : {
      base: decimal(value.base, `${where}.${key}`),
      tiers: [...value.tiers].sort((a, b) => a.start - b.start).map((tier) => ({
        above: tier.start,
        price: decimal(tier.price, `${where}.${key}`),
      })),
    };
  }
  return out;
}

/** Turns the source's providers into the snapshot's. */
export function snapshotOf(
  version: string,
  providers: Record<string, { models: SourceModel[] }>,
  generated: string,
) {
  const leftOut = new Set<string>();
  const droppedModels: string[] = [];
  const out: Record<string, SnapshotModel[]> = {};
  for (const [source, preset, keep] of PROVIDERS) {
    const models: SnapshotModel[] = out[preset] = [];
    for (const model of providers[source].models) {
      if (!keep(model.id)) continue;
      const where = `${source}/${model.id}`;
      const lists = Array.isArray(model.prices) ? model.prices : [{ prices: model.prices }];
      const converted = lists.map((entry) => {
        const constraint = "constraint" in entry ? entry.constraint : undefined;
        if (constraint && !(constraint.type === "start_date" && constraint.start_date)) {
          throw new Error(`${where}: unknown price condition ${JSON.stringify(constraint)}`);
        }
        const prices = convert(entry.prices, where, leftOut);
        const tokenPriced = Object.keys(prices).length > 0 ||
          Object.keys(entry.prices).length === 0; // {} is free
        return { from: constraint?.start_date, prices, tokenPriced };
      });
      if (!converted.every((entry) => entry.tokenPriced)) {
        droppedModels.push(model.id);
        continue;
      }
      models.push({
        id: model.id,
        match: model.match,
        prices: converted.length === 1 && !converted[0].from
          ? converted[0].prices
          : converted.map(({ from, prices }) => from ? { from, prices } : { prices }),
        ...(model.context_window ? { context_window: model.context_window } : {}),
      });
    }
  }
  return {
    source: PACKAGE,
    version,
    license: "MIT",
    license_url: "https://github.com/pydantic/genai-prices/blob/main/LICENSE",
    homepage: "https://github.com/pydantic/genai-prices",
    generated,
    unit: "USD per 1M tokens, exact decimal strings",
    left_out: {
      prices: [...leftOut].sort(),
      models: droppedModels.sort(),
      why: "not priced per token (per thousand calls, per hour of audio)",
    },
    providers: out,
  };
}

/** The snapshot as JSON: one model per line where it fits (deno fmt then settles it). */
export function render(snapshot: ReturnType<typeof snapshotOf>): string {
  const { providers, ...head } = snapshot;
  const lines = Object.entries(head).map(([k, v]) =>
    `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`
  );
  const lists = Object.entries(providers).map(([name, models]) =>
    `    ${JSON.stringify(name)}: [\n${
      models.map((m) => `      ${JSON.stringify(m)}`).join(",\n")
    }\n    ]`
  );
  return `{\n${lines.join("\n")}\n  "providers": {\n${lists.join(",\n")}\n  }\n}\n`;
}

/** Every price of a snapshot as `provider/model kind` → text, for the diff. */
function flatten(snapshot: { providers: Record<string, SnapshotModel[]> } | undefined) {
  const flat = new Map<string, string>();
  for (const [provider, models] of Object.entries(snapshot?.providers ?? {})) {
    for (const model of models) {
      const lists = Array.isArray(model.prices) ? model.prices : [{ prices: model.prices }];
      for (const entry of lists) {
        const from = "from" in entry && entry.from ? ` (from ${entry.from})` : "";
        if (Object.keys(entry.prices).length === 0) {
          flat.set(`${provider}/${model.id}${from}`, "free");
        }
        for (const [kind, price] of Object.entries(entry.prices)) {
          flat.set(
            `${provider}/${model.id} ${kind}${from}`,
            typeof price === "string" ? price : JSON.stringify(price),
          );
        }
      }
    }
  }
  return flat;
}

/** Lines saying what changed between two snapshots. */
export function diff(
  before: { providers: Record<string, SnapshotModel[]> } | undefined,
  after: { providers: Record<string, SnapshotModel[]> },
): string[] {
  const old = flatten(before);
  const now = flatten(after);
  const lines: string[] = [];
  for (const [key, price] of now) {
    const was = old.get(key);
    if (was === undefined) lines.push(`+ ${key} ${price}`);
    else if (was !== price) lines.push(`~ ${key} ${was} -> ${price}`);
  }
  for (const [key, price] of old) if (!now.has(key)) lines.push(`- ${key} ${price}`);
  return lines;
}

async function output(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

if (import.meta.main) {
  const version = Deno.args[0] ?? await output("npm", ["view", PACKAGE, "version"]);
  // A child process reads the package, so the project's lock file never records it.
  const source = `import { findProvider } from "npm:${PACKAGE}@${version}";
console.log(JSON.stringify(Object.fromEntries(
  ${
    JSON.stringify(PROVIDERS.map(([id]) => id))
  }.map((id) => [id, findProvider({ providerId: id })]),
)));`;
  const providers = JSON.parse(
    await output(Deno.execPath(), ["eval", "--no-config", "--no-lock", source]),
  );
  const generated = new Date().toISOString().slice(0, 10);
  const snapshot = snapshotOf(version, providers, generated);
  let before;
  try {
    before = JSON.parse(await Deno.readTextFile(OUT));
  } catch {
    before = undefined;
  }
  await Deno.writeTextFile(OUT, render(snapshot));
  await output(Deno.execPath(), ["fmt", "--quiet", OUT.pathname]);
  const changes = diff(before, snapshot);
  const counts = Object.entries(snapshot.providers).map(([p, m]) => `${m.length} ${p}`);
  console.log(
    `${PACKAGE}@${version} (generated ${generated}): ${counts.join(", ")} models; ` +
      `left out: ${snapshot.left_out.prices.join(", ")} ` +
      `and the models ${snapshot.left_out.models.join(", ")}`,
  );
  if (!before) console.log(`A new table of ${changes.length} prices`);
  else if (changes.length === 0) console.log("No price changed");
  else {
    const count = `${changes.length} change${changes.length === 1 ? "" : "s"}`;
    console.log(`${count} since ${before.version} (${before.generated}):\n${changes.join("\n")}`);
  }
}
