import assert from "node:assert/strict";
import {
  compilePrices,
  loadPrices,
  loadSnapshot,
  modelName,
  parsePrice,
  type PriceKind,
} from "./prices.ts";

const snapshot = await loadSnapshot();
const book = compilePrices(snapshot);
/** USD per 1M tokens of a kind, as written, for a model at `at`. */
const usd = (model: string, kind: PriceKind = "input", at?: number) => {
  const price = book.lookup(model, at);
  assert.ok(price, `${model} has no price`);
  return Number(price.prices[kind].base) / 1e8;
};

Deno.test("the table names its source, version, licence and date, and every price reads", () => {
  assert.deepEqual(book.snapshot, {
    source: "@pydantic/genai-prices",
    version: snapshot.version,
    license: "MIT",
    licenseUrl: "https://github.com/pydantic/genai-prices/blob/main/LICENSE",
    generated: snapshot.generated,
  });
  assert.match(snapshot.generated, /^\d{4}-\d{2}-\d{2}$/);
  assert.deepEqual(Object.keys(snapshot.providers), ["openai", "anthropic", "gemini"]);
  const models = book.models();
  assert.ok(models.length > 100);
  for (const model of models) assert.equal(model.source, "snapshot");
});

Deno.test("each of the table's models is found by its own id, under its own provider", () => {
  for (const [provider, models] of Object.entries(snapshot.providers)) {
    for (const model of models) {
      if (model.id.startsWith("ft:")) continue; // fine-tune patterns, not names
      const found = book.lookup(model.id);
      assert.equal(`${found?.provider}/${found?.id}`, `${provider}/${model.id}`);
    }
  }
});

Deno.test("dated names, resource paths and vendor prefixes find their model", () => {
  const cases: [string, string][] = [
    ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
    ["GPT-4o-mini", "gpt-4o-mini"],
    ["gpt-4o-2024-08-06", "gpt-4o"],
    ["gpt-4o-2024-05-13", "gpt-4o-2024-05-13"], // its own, older price
    ["o4-mini-2025-04-16", "o4-mini"],
    ["ft:gpt-4o-mini-2024-07-18:acme::x1", "ft:gpt-4o-mini"],
    ["claude-sonnet-4-20250514", "claude-sonnet-4-0"],
    ["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"],
    ["claude-opus-4-1-20250805", "claude-opus-4-1"],
    ["claude-sonnet-4@20250514", "claude-sonnet-4-0"],
    ["gemini-2.0-flash-001", "gemini-2.0-flash"],
    ["models/gemini-2.5-flash", "gemini-2.5-flash"],
    ["models/gemini-2.5-flash:streamGenerateContent", "gemini-2.5-flash"],
    ["projects/p/locations/us/publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"],
    ["google/gemini-2.5-flash-lite-preview-06-17", "gemini-2.5-flash-lite"],
    ["gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"],
  ];
  for (const [name, id] of cases) assert.equal(book.lookup(name)?.id, id, name);
  for (const name of ["gemini-flash-latest", "dall-e-3", "my-finetune", ""]) {
    assert.equal(book.lookup(name), undefined, name);
  }
  assert.equal(modelName("  models/gemini-2.5-flash  "), "gemini-2.5-flash");
});

Deno.test("the table's prices of the worked examples' models", () => {
  assert.equal(usd("gpt-4o-mini"), 0.15);
  assert.equal(usd("gpt-4o-mini", "cached_input"), 0.075);
  assert.equal(usd("gpt-audio", "audio_output"), 64);
  assert.equal(usd("claude-sonnet-4-20250514", "cache_write_1h"), 6);
  assert.equal(usd("gemini-2.5-flash", "cached_audio_input"), 0.1);
  assert.equal(book.lookup("gemini-2.5-flash")?.contextWindow, 1_048_576);
  const sonnet = book.lookup("claude-sonnet-4-5")!;
  assert.deepEqual(sonnet.prices.output, {
    base: 1_500_000_000n,
    tiers: [{ above: 200_000, price: 2_250_000_000n }],
  });
});

Deno.test("kinds without a price of their own fall back up their line", () => {
  const mini = book.lookup("gpt-4o-mini")!;
  assert.equal(mini.prices.cache_write.base, mini.prices.input.base);
  assert.equal(mini.prices.reasoning.base, mini.prices.output.base);
  assert.equal(mini.prices.audio_output.base, mini.prices.output.base);
  assert.deepEqual([...mini.explicit].sort(), ["cached_input", "input", "output"]);
  // cached audio: audio's own price first, then cached input's
  const flash = book.lookup("gemini-2.0-flash")!;
  assert.equal(flash.prices.cached_audio_input.base, 17_500_000n);
  const pro = book.lookup("gemini-2.5-pro")!;
  assert.equal(pro.prices.cached_audio_input, pro.prices.cached_input);
  // the table's models without an output price (embeddings) or any (free models) cost nothing
  assert.equal(book.lookup("text-embedding-3-small")!.prices.output.base, 0n);
  assert.equal(book.lookup("gemma-3-27b-it")!.prices.input.base, 0n);
  // prices: entries fall back to input and output
  const own = compilePrices(null, { m: { input: 1, output: 4, cache_write: 1.25 } }).lookup("m")!;
  assert.equal(own.prices.cached_input.base, 100_000_000n);
  assert.equal(own.prices.cache_write_1h.base, 125_000_000n);
  assert.equal(own.prices.audio_output.base, 400_000_000n);
});

Deno.test("prices: adds models and overrides the table, a model's id covering its names", async () => {
  const priced = await loadPrices({
    "gpt-4o-mini": { input: 0.1, output: 0.5 },
    "claude-3-5-haiku-20241022": { input: "0.5", output: "2", context_window: 100_000 },
    "my-finetune": { input: 1, output: 4 },
  });
  const mini = priced.lookup("gpt-4o-mini-2024-07-18")!;
  assert.equal(mini.source, "prices:");
  assert.equal(mini.id, "gpt-4o-mini");
  assert.equal(mini.replaces, "gpt-4o-mini");
  assert.equal(mini.prices.cached_input.base, 10_000_000n, "falls back to its own input");
  // a dated name overrides that name alone
  assert.equal(priced.lookup("claude-3-5-haiku-20241022")?.source, "prices:");
  assert.equal(priced.lookup("claude-3-5-haiku-20241022")?.contextWindow, 100_000);
  assert.equal(priced.lookup("claude-3-5-haiku-latest")?.source, "snapshot");
  assert.equal(priced.lookup("models/my-finetune")?.id, "my-finetune");
  const listed = priced.models();
  assert.deepEqual(listed.slice(0, 3).map((m) => m.id), [
    "gpt-4o-mini",
    "claude-3-5-haiku-20241022",
    "my-finetune",
  ]);
  assert.equal(listed.filter((m) => m.id === "gpt-4o-mini").length, 1, "the replaced entry goes");
});

Deno.test("dated price changes apply from their day", () => {
  const before = Date.parse("2026-12-31T23:59:59Z");
  const after = Date.parse("2027-01-01T00:00:00Z");
  assert.equal(usd("gemini-3.6-flash", "input", before), 0.75);
  assert.equal(usd("gemini-3.6-flash", "input", after), 1.5);
  const now = book.lookup("gemini-3.6-flash", before)!;
  assert.equal(now.until, "2027-01-01");
  assert.equal(book.lookup("gemini-3.6-flash", after)!.from, "2027-01-01");
  assert.equal(usd("o3", "input", Date.parse("2025-06-01")), 10);
  assert.equal(usd("o3", "input", Date.parse("2025-06-10")), 2);
});

Deno.test("prices that cannot be read are refused, naming the model and the kind", () => {
  assert.throws(
    () => compilePrices(null, { m: { input: "0.123456789", output: 1 } }),
    /Cannot read price of m input "0\.123456789": use at most 8 decimals/,
  );
  assert.throws(
    () => compilePrices(null, { m: { input: -1, output: 1 } }),
    /Cannot read price of m input -1/,
  );
  assert.throws(
    () => compilePrices(null, { m: { input: 1 } as never }),
    /Cannot read price of m: output has no price/,
  );
  assert.throws(
    () => compilePrices(null, { m: { input: 1, output: 1, cahced_input: 1 } as never }),
    /unknown kind "cahced_input"/,
  );
  assert.throws(() => parsePrice("1e3", "x"), /Cannot read x "1e3": use USD per 1M tokens/);
  assert.equal(parsePrice(1e-8), 1n);
  assert.equal(parsePrice(" 600 "), 60_000_000_000n);
});
