import assert from "node:assert/strict";
import { SessionMeter } from "./meter.ts";

Deno.test("OpenAI: each response.done is one response's usage, details read as the API's", () => {
  const meter = new SessionMeter("openai", 500);
  assert.equal(meter.read({ type: "response.created", response: { id: "r1" } }), undefined);
  assert.ok(meter.running);
  const usage = meter.read({
    type: "response.done",
    response: {
      usage: {
        total_tokens: 1240,
        input_tokens: 1040,
        output_tokens: 200,
        input_token_details: { cached_tokens: 832, audio_tokens: 920, text_tokens: 120 },
        output_token_details: { text_tokens: 48, audio_tokens: 152 },
      },
    },
  });
  assert.equal(usage?.input, 1040);
  assert.equal(usage?.output, 200);
  assert.equal(usage?.total, 1240);
  assert.ok(!meter.running);
  assert.equal(meter.end(), undefined, "nothing left once every response reported");
  // A response that reports no usage (cancelled before it began) charges nothing.
  meter.read({ type: "response.created", response: { id: "r2" } });
  assert.equal(meter.read({ type: "response.done", response: { usage: null } }), undefined);
});

Deno.test("Gemini: the last usage of a turn, at its end or after it", () => {
  const meter = new SessionMeter("gemini", 300);
  meter.read({ serverContent: { modelTurn: { parts: [{ text: "Hi" }] } } });
  assert.ok(meter.running);
  assert.equal(
    meter.read({ usageMetadata: { promptTokenCount: 10, responseTokenCount: 2 } }),
    undefined,
    "within a turn, usage waits for its end",
  );
  const turn = meter.read({
    serverContent: { turnComplete: true },
    usageMetadata: { promptTokenCount: 10, responseTokenCount: 5, thoughtsTokenCount: 1 },
  });
  assert.deepEqual(turn, { input: 10, output: 6, total: 16 });
  // Usage that comes after its turn ended is charged as it comes.
  meter.read({ serverContent: { modelTurn: { parts: [{ text: "again" }] } } });
  assert.equal(meter.read({ serverContent: { interrupted: true } }), undefined);
  assert.deepEqual(
    meter.read({
      usageMetadata: { promptTokenCount: 20, responseTokenCount: 3, totalTokenCount: 23 },
    }),
    { input: 20, output: 3, total: 23 },
  );
});

Deno.test("a turn cut by a hang-up: its last usage as reported, else an estimate", () => {
  const reported = new SessionMeter("gemini", 300);
  reported.read({ serverContent: { modelTurn: { parts: [{ text: "a" }] } } });
  reported.read({ usageMetadata: { promptTokenCount: 8, responseTokenCount: 1 } });
  assert.deepEqual(reported.end(), {
    usage: { input: 8, output: 1, total: 9 },
    estimated: false,
  });
  const silent = new SessionMeter("gemini", 300);
  silent.read({ serverContent: { modelTurn: { parts: [{ text: "a" }] } } });
  assert.deepEqual(silent.end(), { usage: { input: 0, output: 300, total: 300 }, estimated: true });
});
