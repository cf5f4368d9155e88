import assert from "node:assert/strict";
import { type FrameContext, FrameRules } from "./rules.ts";

const openai: FrameContext = { protocol: "openai", beta: false, model: "gpt-realtime" };
const beta: FrameContext = { protocol: "openai", beta: true, model: "gpt-realtime" };

Deno.test("OpenAI: clamps in session.update and response.create, GA and beta shapes", () => {
  const rules = new FrameRules({ max: 100 });
  const update = { type: "session.update", session: { max_output_tokens: "inf" } };
  assert.equal(rules.check(update, openai), "changed");
  assert.equal(update.session.max_output_tokens, 100);
  const small = { type: "session.update", session: { max_output_tokens: 50 } };
  assert.equal(rules.check(small, openai), "pass");

  const create: Record<string, unknown> = { type: "response.create", response: {} };
  assert.equal(rules.check(create, beta), "changed");
  assert.deepEqual(create.response, { max_response_output_tokens: 100 });
  const both = {
    type: "response.create",
    response: { max_output_tokens: 4096, max_response_output_tokens: 7 },
  };
  assert.equal(rules.check(both, openai), "changed");
  assert.deepEqual(both.response, { max_output_tokens: 100, max_response_output_tokens: 7 });

  const broken = { type: "response.create", response: "everything" };
  assert.equal((rules.check(broken, openai) as { code: string }).code, "invalid_frame");
  assert.equal(rules.check({ type: "input_audio_buffer.append", audio: "AA" }, openai), "pass");
});

Deno.test("OpenAI: a session keeps its model; transcription models must be listed too", () => {
  const rules = new FrameRules({ models: ["gpt-realtime", "gpt-realtime-mini", "whisper-1"] });
  const same = { type: "session.update", session: { model: "gpt-realtime" } };
  assert.equal(rules.check(same, openai), "pass");
  const other = { type: "session.update", session: { model: "gpt-realtime-mini" } };
  assert.match((rules.check(other, openai) as { message: string }).message, /keeps the model/);
  const transcription = {
    type: "session.update",
    session: { audio: { input: { transcription: { model: "gpt-4o-transcribe" } } } },
  };
  const refused = rules.check(transcription, openai) as { code: string; param: string };
  assert.equal(refused.code, "model_not_allowed");
  assert.equal(refused.param, "session.audio.input.transcription.model");
  const listed = {
    type: "session.update",
    session: { input_audio_transcription: { model: "whisper-1" } },
  };
  assert.equal(rules.check(listed, beta), "pass");
  const notString = { type: "session.update", session: { model: ["gpt-realtime"] } };
  assert.equal((rules.check(notString, openai) as { code: string }).code, "invalid_frame");
});

Deno.test("a client token's claims and prices narrow the models", () => {
  const rules = new FrameRules({});
  const context: FrameContext = {
    protocol: "gemini",
    beta: false,
    granted: new Set(["gemini-live-2.5-flash-preview"]),
    priced: (model) => model !== "gemini-live-2.5-flash-preview",
  };
  const setup = { setup: { model: "models/gemini-live-2.5-flash-preview" } };
  assert.equal((rules.check(setup, context) as { code: string }).code, "model_not_priced");
  const other = { setup: { model: "models/gemini-2.5-flash" } };
  assert.match((rules.check(other, context) as { message: string }).message, /token does not/);
});

Deno.test("Gemini: setup clamped in every spelling, added where absent; deny over its text", () => {
  const rules = new FrameRules({
    models: ["models/gemini-live-2.5-flash-preview"],
    max: 64,
    deny: ["secret plans"],
  });
  const context: FrameContext = { protocol: "gemini", beta: false };
  const snake: Record<string, Record<string, unknown>> = {
    setup: { model: "gemini-live-2.5-flash-preview", generation_config: { temperature: 1 } },
  };
  assert.equal(rules.check(snake, context), "changed");
  assert.deepEqual(snake.setup.generation_config, { temperature: 1, max_output_tokens: 64 });
  assert.equal(context.model, "gemini-live-2.5-flash-preview");
  const again: Record<string, Record<string, unknown>> = {
    setup: {
      model: "models/gemini-live-2.5-flash-preview",
      generationConfig: { maxOutputTokens: 9000 },
    },
  };
  assert.equal(rules.check(again, context), "changed");
  assert.deepEqual(again.setup.generationConfig, { maxOutputTokens: 64 });
  const denied = {
    clientContent: { turns: [{ role: "user", parts: [{ text: "my SECRET PLANS" }] }] },
  };
  assert.equal((rules.check(denied, context) as { code: string }).code, "denied_text");
  assert.equal(
    (rules.check({ realtimeInput: { text: "secret plans" } }, context) as { code: string }).code,
    "denied_text",
  );
  assert.equal(rules.check({ realtimeInput: { audio: { data: "AAAA" } } }, context), "pass");
  const unnamed = { setup: {} };
  assert.equal((rules.check(unnamed, context) as { code: string }).code, "invalid_frame");
});
