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
  // Audio counted cached or not, the cached split unsaid: the dearest split that adds up.
  assert.deepEqual(usage?.kinds, {
    input: 0,
    output: 48,
    cached_input: 120,
    audio_input: 208,
    cached_audio_input: 712,
    audio_output: 152,
  });
  // With the cached split said, it is taken as said.
  meter.read({ type: "response.created", response: { id: "r1b" } });
  const split = meter.read({
    type: "response.done",
    response: {
      usage: {
        total_tokens: 1240,
        input_tokens: 1040,
        output_tokens: 200,
        input_token_details: {
          cached_tokens: 832,
          audio_tokens: 920,
          text_tokens: 120,
          cached_tokens_details: { text_tokens: 32, audio_tokens: 800 },
        },
        output_token_details: { text_tokens: 48, audio_tokens: 152 },
      },
    },
  });
  assert.deepEqual(split?.kinds, {
    input: 88,
    output: 48,
    cached_input: 32,
    audio_input: 120,
    cached_audio_input: 800,
    audio_output: 152,
  });
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
  assert.deepEqual(turn, {
    input: 10,
    output: 6,
    total: 16,
    kinds: { input: 10, output: 5, reasoning: 1 },
  });
  // Usage that comes after its turn ended is charged as it comes.
  meter.read({ serverContent: { modelTurn: { parts: [{ text: "again" }] } } });
  assert.equal(meter.read({ serverContent: { interrupted: true } }), undefined);
  assert.deepEqual(
    meter.read({
      usageMetadata: { promptTokenCount: 20, responseTokenCount: 3, totalTokenCount: 23 },
    }),
    { input: 20, output: 3, total: 23, kinds: { input: 20, output: 3 } },
  );
});

Deno.test("a turn cut by a hang-up: its last usage as reported, else an estimate", () => {
  const reported = new SessionMeter("gemini", 300);
  reported.read({ serverContent: { modelTurn: { parts: [{ text: "a" }] } } });
  reported.read({ usageMetadata: { promptTokenCount: 8, responseTokenCount: 1 } });
  assert.deepEqual(reported.end(), {
    usage: { input: 8, output: 1, total: 9, kinds: { input: 8, output: 1 } },
    estimated: false,
  });
  const silent = new SessionMeter("gemini", 300);
  silent.read({ serverContent: { modelTurn: { parts: [{ text: "a" }] } } });
  assert.deepEqual(silent.end(), { usage: { input: 0, output: 300, total: 300 }, estimated: true });
});
