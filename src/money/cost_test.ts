import assert from "node:assert/strict";
import { costOf, worstCost } from "./cost.ts";
import { compilePrices, type ModelPrice, PRICE_KINDS } from "./prices.ts";
import { type Usage, type UsageKinds, UsageMeter } from "../usage/meter.ts";
import type { UsageFormat } from "../config/presets/mod.ts";

// The prices of the worked examples (USD per 1M tokens), as the table has them.
const book = compilePrices(null, {
  "gpt-4o-mini": { input: "0.15", cached_input: "0.075", output: "0.6" },
  "o4-mini": { input: "1.1", cached_input: "0.275", output: "4.4" },
  "gpt-audio": { input: "2.5", output: "10", audio_input: "32", audio_output: "64" },
  "claude-sonnet-4": {
    input: "3",
    cached_input: "0.3",
    cache_write: "3.75",
    cache_write_1h: "6",
    output: "15",
  },
  "gemini-2.5-flash": {
    input: "0.3",
    cached_input: "0.03",
    output: "2.5",
    audio_input: "1",
    cached_audio_input: "0.1",
  },
  "tiered": { input: 1, output: 2 },
});
const price = (model: string) => book.lookup(model)!;

/** The usage a meter asked for kinds reads from a JSON body. */
function metered(format: UsageFormat, body: unknown): Usage {
  const meter = new UsageMeter(format, "application/json", { kinds: true });
  meter.feed(new TextEncoder().encode(JSON.stringify(body)));
  return meter.finish()!;
}

Deno.test("the five worked examples cost exactly what their providers bill, to the unit", () => {
  const cases: [string, UsageFormat, unknown, number][] = [
    ["gpt-4o-mini", "openai", {
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
      },
    }, 33_690],
    ["o4-mini", "openai", {
      usage: {
        input_tokens: 5000,
        input_tokens_details: { cached_tokens: 4096 },
        output_tokens: 1800,
        output_tokens_details: { reasoning_tokens: 1536 },
        total_tokens: 6800,
      },
    }, 1_004_080],
    ["gpt-audio", "openai", {
      usage: {
        prompt_tokens: 117,
        completion_tokens: 181,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 148 },
      },
    }, 1_304_450],
    ["claude-sonnet-4", "anthropic", {
      usage: {
        input_tokens: 50,
        cache_creation_input_tokens: 3000,
        cache_read_input_tokens: 10000,
        cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
        output_tokens: 503,
      },
    }, 2_644_500],
    ["gemini-2.5-flash", "gemini", {
      usageMetadata: {
        promptTokenCount: 4200,
        cachedContentTokenCount: 2048,
        candidatesTokenCount: 120,
        thoughtsTokenCount: 880,
        totalTokenCount: 5200,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 3240 }, {
          modality: "AUDIO",
          tokenCount: 960,
        }],
        cacheTokensDetails: [{ modality: "TEXT", tokenCount: 2048 }, {
          modality: "AUDIO",
          tokenCount: 0,
        }],
      },
    }, 387_904],
  ];
  for (const [model, format, body, expected] of cases) {
    assert.equal(costOf(metered(format, body), price(model)), expected, model);
  }
});

Deno.test("cached-input pricing is exact to the cent's millionth", () => {
  const usage = {
    input: 1920,
    output: 0,
    total: 1920,
    kinds: { input: 0, cached_input: 1920, output: 0 },
  };
  assert.equal(costOf(usage, price("gpt-4o-mini")), 14_400); // $0.000144 exactly
  // a cent's millionth is one unit: one more cached token adds 7.5 units, charged as 8
  usage.kinds.cached_input = 1921;
  usage.input = usage.total = 1921;
  assert.equal(costOf(usage, price("gpt-4o-mini")), 14_408);
});

Deno.test("an estimate (no kinds) prices everything at the input and output prices", () => {
  const estimate = { input: 2006, output: 300, total: 2306 };
  // 2006 @ 0.15 + 300 @ 0.6 = 480.9 per 1M tokens: more than the 33,690 of the same usage split
  assert.equal(costOf(estimate, price("gpt-4o-mini")), 48_090);
  // tokens the kinds do not hold are priced at the input and output prices
  const partial = { input: 2006, output: 300, total: 2306, kinds: { input: 0, output: 0 } };
  assert.equal(costOf(partial, price("gpt-4o-mini")), 48_090);
});

/** The exact cost as a fraction, the slow way: Σ tokens × USD/M as decimals, in 1e-14 USD. */
function exact(usage: Usage, model: ModelPrice): bigint {
  let sum = 0n;
  const kinds: Partial<UsageKinds> = usage.kinds ?? { input: usage.input, output: usage.output };
  for (const kind of PRICE_KINDS) {
    sum += BigInt(kinds[kind] ?? 0) * model.prices[kind].base;
  }
  return sum;
}

Deno.test("costs round up once, by less than a unit, never down", () => {
  let seed = 7;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  for (let i = 0; i < 2000; i++) {
    const kinds: UsageKinds = {
      input: random(5000),
      cached_input: random(50_000),
      cache_write: random(3000),
      cache_write_1h: random(3000),
      output: random(4000),
    };
    const input = kinds.input + kinds.cached_input! + kinds.cache_write! + kinds.cache_write_1h!;
    const usage = { input, output: kinds.output, total: input + kinds.output, kinds };
    const cost = BigInt(costOf(usage, price("claude-sonnet-4")));
    const truth = exact(usage, price("claude-sonnet-4")); // in 1e-14 USD
    assert.ok(cost * 1_000_000n >= truth, `rounded down: ${cost} < ${truth}e-6`);
    assert.ok(cost * 1_000_000n - truth < 1_000_000n, `rounded up by a unit or more`);
  }
});

Deno.test("products beyond 2^53 stay exact; costs past $90M saturate", () => {
  const book = compilePrices(null, {
    "gpt-4.5-preview": { input: 75, output: 150 },
    "o1-pro": { input: 150, output: 600 },
  });
  // 2M tokens at $75 and 1M at $600 per 1M: 7.5e15 × 2e6 is past 2^53, the cost is $750
  const big = { input: 2_000_000, output: 1_000_000, total: 3_000_000 };
  assert.equal(costOf(big, book.lookup("o1-pro")!), 90_000_000_000); // $900 = 300 + 600
  const mixed = { input: 2_000_000, output: 0, total: 2_000_000 };
  assert.equal(
    costOf(mixed, book.lookup("gpt-4.5-preview")!) +
      costOf({ input: 0, output: 1_000_000, total: 1_000_000 }, book.lookup("o1-pro")!),
    75_000_000_000,
  );
  // odd counts of tokens at prices of 8 decimals, far past 2^53 in 1e-14 USD
  const fine = compilePrices(null, { m: { input: "12345.67891234", output: "0.00000001" } });
  const odd = { input: 987_654_321, output: 3, total: 987_654_324 };
  // 987654321 × 1234567891234 + 3 × 1 = 1219326312345118122117 (1e-14 USD); / 1e6 rounded up
  assert.equal(costOf(odd, fine.lookup("m")!), 1_219_326_312_345_119);
  const huge = { input: Number.MAX_SAFE_INTEGER, output: 0, total: Number.MAX_SAFE_INTEGER };
  assert.equal(costOf(huge, fine.lookup("m")!), Number.MAX_SAFE_INTEGER);
});

Deno.test("hostile counts: fractions round up, negatives and NaN count nothing", () => {
  const usage = {
    input: 1.2,
    output: Number.NaN,
    total: 0,
    kinds: { input: -5, cached_input: 0.5, output: Infinity },
  };
  const cost = costOf(usage, price("gpt-4o-mini"));
  // cached 1 @ 0.075 + 1 more input @ 0.15 (input 2 in all) + output saturating
  assert.ok(cost > 0 && Number.isSafeInteger(cost));
});

Deno.test("tiers: the whole kind costs the tier's price once the input passes it", () => {
  const book = compilePrices({
    source: "test",
    version: "0",
    license: "MIT",
    license_url: "",
    generated: "2026-01-01",
    providers: {
      anthropic: [{
        id: "claude-sonnet-4-5",
        match: { starts_with: "claude-sonnet-4-5" },
        prices: {
          input: { base: "3", tiers: [{ above: 200000, price: "6" }] },
          cached_input: { base: "0.3", tiers: [{ above: 200000, price: "0.6" }] },
          output: { base: "15", tiers: [{ above: 200000, price: "22.5" }] },
        },
      }],
    },
  });
  const sonnet = book.lookup("claude-sonnet-4-5-20250929")!;
  const at = (input: number, cached: number, output: number) =>
    costOf({
      input,
      output,
      total: input + output,
      kinds: { input: input - cached, cached_input: cached, output },
    }, sonnet);
  assert.equal(at(200_000, 100_000, 1000), 30_000_000 + 3_000_000 + 1_500_000); // $0.345
  assert.equal(at(200_001, 100_000, 1000), 60_000_600 + 6_000_000 + 2_250_000); // all at tier prices
  // the worst case of a request that may pass the tier is priced at the tier
  assert.equal(worstCost({ text: 150_000 }, { tokens: 1000 }, sonnet), 45_000_000 + 1_500_000);
  assert.equal(worstCost({ text: 250_000 }, { tokens: 1000 }, sonnet), 150_000_000 + 2_250_000);
});

Deno.test("worstCost: the highest price each token can be billed at", () => {
  // text at input, output at output
  assert.equal(worstCost({ text: 48 }, { tokens: 40 }, price("gpt-4o-mini")), 3_120); // 7.2+24 per M
  // audio in at audio_input; audio out asked for: the larger of output and audio_output
  assert.equal(
    worstCost({ text: 20, audio: 100 }, { tokens: 200, audio: true }, price("gpt-audio")),
    1_605_000, // 20 @ 2.5 + 100 @ 32 + 200 @ 64
  );
  assert.equal(
    worstCost({ text: 20, audio: 100 }, { tokens: 200 }, price("gpt-audio")),
    525_000, // 20 @ 2.5 + 100 @ 32 + 200 @ 10
  );
  // cache writes when the request may write: 5 minutes, or up to an hour
  const claude = price("claude-sonnet-4");
  assert.equal(worstCost({ text: 1000 }, { tokens: 0 }, claude), 300_000);
  assert.equal(worstCost({ text: 1000, cacheWrite: "5m" }, { tokens: 0 }, claude), 375_000);
  assert.equal(worstCost({ text: 1000, cacheWrite: "1h" }, { tokens: 0 }, claude), 600_000);
  // models that price image output may produce images unasked
  const image = compilePrices(null, {
    "gemini-2.5-flash-image": { input: 0.3, output: 2.5, image_output: 30 },
  }).lookup("gemini-2.5-flash-image")!;
  assert.equal(worstCost({ text: 10 }, { tokens: 1290 }, image), 3_870_300);
});

Deno.test("worstCost bounds costOf for any usage within the request's bounds", () => {
  let seed = 11;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % (n + 1);
  for (const model of ["claude-sonnet-4", "gemini-2.5-flash", "gpt-audio", "o4-mini"]) {
    const p = price(model);
    for (let i = 0; i < 500; i++) {
      const text = random(20_000);
      const audio = random(2000);
      const out = random(4000);
      const worst = worstCost({ text, audio, cacheWrite: "1h" }, { tokens: out, audio: true }, p);
      // any split of the text into kinds, any split of the output
      const cached = random(text);
      const written = random(text - cached);
      const hour = random(written);
      const audioOut = random(out);
      const reasoning = random(out - audioOut);
      const kinds: UsageKinds = {
        input: text - cached - written,
        cached_input: cached,
        cache_write: written - hour,
        cache_write_1h: hour,
        audio_input: audio,
        output: out - audioOut - reasoning,
        reasoning,
        audio_output: audioOut,
      };
      const usage = { input: text + audio, output: out, total: text + audio + out, kinds };
      assert.ok(costOf(usage, p) <= worst, `${model} ${JSON.stringify(usage)}`);
      assert.ok(costOf({ input: text + audio, output: out, total: 0 }, p) <= worst);
    }
  }
});

Deno.test("OpenAI models that price cache writes reserve them unasked", () => {
  const book = compilePrices({
    source: "test",
    version: "0",
    license: "MIT",
    license_url: "",
    generated: "2026-01-01",
    providers: {
      openai: [{
        id: "gpt-5.6-luna",
        match: { equals: "gpt-5.6-luna" },
        prices: { input: "1", cache_write: "1.25", cached_input: "0.1", output: "6" },
      }],
    },
  });
  const luna = book.lookup("gpt-5.6-luna")!;
  assert.equal(worstCost({ text: 1000 }, { tokens: 100 }, luna), 125_000 + 60_000);
});
