import assert from "node:assert/strict";
import { decimal, diff, render, snapshotOf } from "./prices_refresh.ts";

const source = {
  openai: {
    models: [
      {
        id: "gpt-x",
        match: { or: [{ equals: "gpt-x" }, { equals: "gpt-x-2030-01-01" }] },
        prices: {
          input_mtok: 0.15,
          cache_read_mtok: 0.075,
          output_mtok: 0.6,
          web_searches_kcount: 10,
        },
        context_window: 128000,
      },
      { id: "whisper-x", match: { equals: "whisper-x" }, prices: { input_audio_hours: 0.36 } },
      { id: "moderation", match: { equals: "moderation" }, prices: {} },
    ],
  },
  anthropic: {
    models: [{
      id: "claude-x",
      match: { starts_with: "claude-x" },
      prices: [
        {
          prices: {
            input_mtok: { base: 3, tiers: [{ start: 200000, price: 6 }] },
            output_mtok: 15,
            cache_write_1h_mtok: 6,
          },
        },
        {
          constraint: { type: "start_date", start_date: "2031-01-01" },
          prices: { input_mtok: 3, output_mtok: 15 },
        },
      ],
    }],
  },
  google: {
    models: [
      {
        id: "gemini-x",
        match: { equals: "gemini-x" },
        prices: { input_mtok: 1.5e-7, output_mtok: 2 },
      },
      {
        id: "claude-on-vertex",
        match: { equals: "claude-on-vertex" },
        prices: { input_mtok: 1, output_mtok: 2 },
      },
    ],
  },
};

Deno.test("the snapshot keeps the source's rules and names its prices as keyward does", () => {
  const snapshot = snapshotOf("9.9.9", source, "2030-06-01");
  assert.equal(snapshot.source, "@pydantic/genai-prices");
  assert.equal(snapshot.version, "9.9.9");
  assert.equal(snapshot.generated, "2030-06-01");
  assert.deepEqual(snapshot.left_out.prices, ["input_audio_hours", "web_searches_kcount"]);
  assert.deepEqual(snapshot.left_out.models, ["whisper-x"]);
  assert.deepEqual(snapshot.providers.openai, [
    {
      id: "gpt-x",
      match: { or: [{ equals: "gpt-x" }, { equals: "gpt-x-2030-01-01" }] },
      prices: { input: "0.15", cached_input: "0.075", output: "0.6" },
      context_window: 128000,
    },
    { id: "moderation", match: { equals: "moderation" }, prices: {} },
  ]);
  assert.deepEqual(snapshot.providers.anthropic[0].prices, [
    {
      prices: {
        input: { base: "3", tiers: [{ above: 200000, price: "6" }] },
        output: "15",
        cache_write_1h: "6",
      },
    },
    { from: "2031-01-01", prices: { input: "3", output: "15" } },
  ]);
  assert.deepEqual(snapshot.providers.gemini.map((m) => m.id), ["gemini-x"]);
  assert.deepEqual(snapshot.providers.gemini[0].prices, { input: "0.00000015", output: "2" });
  assert.deepEqual(JSON.parse(render(snapshot)), JSON.parse(JSON.stringify(snapshot)));
});

Deno.test("prices the script cannot carry exactly fail the refresh", () => {
  assert.throws(() => decimal(0.123456789, "x"), /x: 0\.123456789 is not a price of at most 8/);
  assert.throws(() => decimal(-1, "x"), /is not a price/);
  const unknown = structuredClone(source);
  (unknown.openai.models[0].prices as Record<string, number>).input_text_mtok = 1;
  assert.throws(
    () => snapshotOf("1", unknown, "2030-06-01"),
    /unknown token price input_text_mtok/,
  );
  const timed = structuredClone(source);
  (timed.anthropic.models[0].prices[1] as { constraint: unknown }).constraint = {
    type: "time_of_date",
    start_time: "16:30:00Z",
    end_time: "00:30:00Z",
  };
  assert.throws(() => snapshotOf("1", timed, "2030-06-01"), /unknown price condition/);
});

Deno.test("the diff names added, changed and removed prices", () => {
  const before = snapshotOf("1", source, "2030-06-01");
  const changed = structuredClone(source);
  changed.openai.models[0].prices.output_mtok = 0.5;
  changed.google.models.shift();
  const after = snapshotOf("2", changed, "2030-07-01");
  assert.deepEqual(diff(before, after), [
    "~ openai/gpt-x output 0.6 -> 0.5",
    "- gemini/gemini-x input 0.00000015",
    "- gemini/gemini-x output 2",
  ]);
  assert.ok(diff(undefined, after).includes("+ openai/moderation free"));
});
