import assert from "node:assert/strict";
import { UsageMeter } from "./meter.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function feedSplit(meter: UsageMeter, text: string, size: number) {
  const data = bytes(text);
  for (let i = 0; i < data.length; i += size) meter.feed(data.subarray(i, i + size));
}

Deno.test("OpenAI JSON and the final usage event of a stream, split anywhere", () => {
  const json = new UsageMeter("openai", "application/json");
  feedSplit(json, '{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}', 5);
  assert.deepEqual(json.finish(), { input: 3, output: 4, total: 7 });

  const sse = new UsageMeter("openai", "text/event-stream; charset=utf-8");
  feedSplit(
    sse,
    'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":9,"total_tokens":11}}\n\n' +
      "data: [DONE]\n\n",
    7,
  );
  assert.deepEqual(sse.finish(), { input: 2, output: 9, total: 11 });
});

Deno.test("OpenAI Responses API streams report usage in response.completed", () => {
  const sse = new UsageMeter("openai", "text/event-stream");
  feedSplit(
    sse,
    "event: response.completed\n" +
      'data: {"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":6,"total_tokens":11}}}\n\n',
    13,
  );
  assert.deepEqual(sse.finish(), { input: 5, output: 6, total: 11 });
});

Deno.test("Anthropic streams: input from message_start, output from the last message_delta", () => {
  const sse = new UsageMeter("anthropic", "text/event-stream");
  feedSplit(
    sse,
    "event: message_start\n" +
      'data: {"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}\n\n' +
      "event: message_delta\n" +
      'data: {"type":"message_delta","usage":{"output_tokens":15}}\n\n',
    9,
  );
  assert.deepEqual(sse.finish(), { input: 25, output: 15, total: 40 });
});

Deno.test("Gemini JSON arrays and SSE carry running usageMetadata", () => {
  const array = new UsageMeter("gemini", "application/json");
  feedSplit(
    array,
    '[{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1,"totalTokenCount":5}},' +
      '{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":8,"totalTokenCount":12}}]',
    11,
  );
  assert.deepEqual(array.finish(), { input: 4, output: 8, total: 12 });
  const sse = new UsageMeter("gemini", "text/event-stream");
  feedSplit(sse, 'data: {"usageMetadata":{"promptTokenCount":4,"totalTokenCount":6}}\r\n\r\n', 4);
  assert.deepEqual(sse.finish(), { input: 4, output: 0, total: 6 });
});

Deno.test("no usage, or a body that is not JSON, reports nothing", () => {
  const none = new UsageMeter("openai", "application/json");
  none.feed(bytes('{"id":"x"}'));
  assert.equal(none.finish(), undefined);
  const broken = new UsageMeter("openai", "application/json");
  broken.feed(bytes("<html>"));
  assert.equal(broken.finish(), undefined);
});

Deno.test("Gemini Interactions: usage.total_* in the JSON body and in the stream's events", () => {
  const json = new UsageMeter("gemini", "application/json");
  feedSplit(
    json,
    '{"id":"i1","status":"completed","usage":{"total_input_tokens":12,' +
      '"total_output_tokens":30,"total_thought_tokens":8,"total_tokens":50}}',
    9,
  );
  assert.deepEqual(json.finish(), { input: 12, output: 38, total: 50 });

  const sse = new UsageMeter("gemini", "text/event-stream");
  feedSplit(
    sse,
    'data: {"event_type":"interaction.created","interaction":{"id":"i1","status":"in_progress"}}\n\n' +
      'data: {"event_type":"step.delta","index":0,"delta":{"type":"text","text":"hi"}}\n\n' +
      'data: {"event_type":"interaction.completed","interaction":{"id":"i1",' +
      '"status":"completed","usage":{"total_input_tokens":5,"total_output_tokens":7}}}\n\n',
    11,
  );
  assert.deepEqual(sse.finish(), { input: 5, output: 7, total: 12 });
});

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("a stream cut before its usage is charged the request bytes and the generated text", () => {
  const meter = new UsageMeter("openai", "text/event-stream");
  meter.feed(text('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'));
  meter.feed(text('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"del'));
  meter.feed(text('ta":{"content":"lo \\"w\\u00e9\\""}}]}\n\n'));
  // "Hel" (3) + the raw string lo \"w\u00e9\" (14): escapes count as written
  assert.deepEqual(meter.charge(200, false), {
    usage: { input: 200, output: 17, total: 217 },
    estimated: true,
  });
});

Deno.test("an answer whose usage came is charged it exactly; errors and plain JSON without usage are not", () => {
  const done = new UsageMeter("openai", "text/event-stream");
  done.feed(text('data: {"choices":[{"delta":{"content":"Hello there"}}]}\n\n'));
  done.feed(
    text('data: {"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n'),
  );
  assert.deepEqual(done.charge(500, true), {
    usage: { input: 9, output: 2, total: 11 },
    estimated: false,
  });
  const list = new UsageMeter("openai", "application/json");
  list.feed(text('{"data":[{"id":"gpt-4o"}]}'));
  assert.equal(list.charge(0, true), undefined);
  const error = new UsageMeter("openai", "text/event-stream");
  error.feed(text('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'));
  assert.equal(error.charge(undefined, false), undefined, "not billable: no estimate");
});

Deno.test("a stream that ends without usage is charged an estimate; a cut JSON body too", () => {
  const quiet = new UsageMeter("openai", "text/event-stream");
  quiet.feed(
    text('data: {"type":"response.output_text.delta","delta":"Hi you"}\n\ndata: [DONE]\n\n'),
  );
  assert.deepEqual(quiet.charge(40, true)?.usage, { input: 40, output: 6, total: 46 });
  const json = new UsageMeter("openai", "application/json");
  json.feed(text('{"choices":[{"message":{"content":"Partial ans'));
  assert.deepEqual(json.charge(10, false)?.usage, { input: 10, output: 11, total: 21 });
});

Deno.test("Anthropic's early input is kept; its output is bounded by the text that passed", () => {
  const meter = new UsageMeter("anthropic", "text/event-stream");
  meter.feed(text(
    'data: {"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}\n\n' +
      'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Bonjour"}}\n\n',
  ));
  assert.deepEqual(meter.charge(900, false), {
    usage: { input: 25, output: 7, total: 32 },
    estimated: true,
  });
});

Deno.test("a client hanging up after the final usage event pays what was reported", () => {
  const meter = new UsageMeter("openai", "text/event-stream");
  meter.feed(text('data: {"choices":[{"delta":{"content":"A long answer indeed"}}]}\n\n'));
  meter.feed(
    text('data: {"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n'),
  );
  assert.deepEqual(meter.charge(100, false), {
    usage: { input: 3, output: 4, total: 7 },
    estimated: false,
  });
});

/** The usage a meter asked for kinds reports for one body. */
function kindsOf(format: "openai" | "anthropic" | "gemini", body: unknown, type = "json") {
  const meter = new UsageMeter(format, `application/${type}`, { kinds: true });
  feedSplit(meter, JSON.stringify(body), 17);
  return meter.finish();
}

Deno.test("kinds: OpenAI chat carves cached and audio tokens out of the prompt and completion", () => {
  const cached = kindsOf("openai", {
    usage: {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
  });
  assert.deepEqual(cached, {
    input: 2006,
    output: 300,
    total: 2306,
    kinds: { input: 86, cached_input: 1920, output: 300 },
  });
  const audio = kindsOf("openai", {
    usage: {
      prompt_tokens: 117,
      completion_tokens: 181,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 148 },
    },
  });
  assert.deepEqual(audio?.kinds, { input: 17, audio_input: 100, output: 33, audio_output: 148 });
});

Deno.test("kinds: OpenAI Responses (reasoning inside output, cache writes) and Images", () => {
  const sse = new UsageMeter("openai", "text/event-stream", { kinds: true });
  feedSplit(
    sse,
    'data: {"type":"response.output_text.delta","delta":"Hi"}\n\n' +
      'data: {"type":"response.completed","response":{"usage":{"input_tokens":5000,' +
      '"input_tokens_details":{"cached_tokens":4096,"cache_write_tokens":100},' +
      '"output_tokens":1800,"output_tokens_details":{"reasoning_tokens":1536},' +
      '"total_tokens":6800}}}\n\n',
    23,
  );
  assert.deepEqual(sse.finish(), {
    input: 5000,
    output: 1800,
    total: 6800,
    kinds: { input: 804, cached_input: 4096, cache_write: 100, output: 264, reasoning: 1536 },
  });
  const image = kindsOf("openai", {
    usage: {
      input_tokens: 50,
      input_tokens_details: { text_tokens: 10, image_tokens: 40 },
      output_tokens: 4160,
      output_tokens_details: { text_tokens: 0, image_tokens: 4160 },
      total_tokens: 4210,
    },
  });
  assert.deepEqual(image?.kinds, { input: 10, image_input: 40, output: 0, image_output: 4160 });
});

Deno.test("kinds: Anthropic input, cache reads and 5 minute and 1 hour writes are disjoint", () => {
  const sse = new UsageMeter("anthropic", "text/event-stream", { kinds: true });
  feedSplit(
    sse,
    'data: {"type":"message_start","message":{"usage":{"input_tokens":50,' +
      '"cache_creation_input_tokens":3000,"cache_read_input_tokens":10000,"cache_creation":' +
      '{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":1}}}\n\n' +
      'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"}}\n\n' +
      'data: {"type":"message_delta","usage":{"output_tokens":200}}\n\n' +
      'data: {"type":"message_delta","usage":{"output_tokens":503}}\n\n',
    19,
  );
  assert.deepEqual(sse.finish(), {
    input: 13050,
    output: 503,
    total: 13553,
    kinds: {
      input: 50,
      cached_input: 10000,
      cache_write: 1000,
      cache_write_1h: 2000,
      output: 503,
    },
  });
  // without the split, every write is priced as a 5 minute write
  const unsplit = kindsOf("anthropic", {
    usage: { input_tokens: 7, cache_creation_input_tokens: 300, output_tokens: 9 },
  });
  assert.deepEqual(unsplit?.kinds, { input: 7, cache_write: 300, output: 9 });
});

Deno.test("kinds: Gemini splits cache, audio and thoughts; tool results count as input", () => {
  const flash = kindsOf("gemini", {
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
  });
  assert.deepEqual(flash, {
    input: 4200,
    output: 1000,
    total: 5200,
    kinds: { input: 1192, cached_input: 2048, audio_input: 960, output: 120, reasoning: 880 },
  });
  // toolUsePromptTokenCount is billed input: it was dropped before
  const tools = new UsageMeter("gemini", "application/json");
  tools.feed(bytes(
    '{"usageMetadata":{"promptTokenCount":10,"toolUsePromptTokenCount":400,' +
      '"candidatesTokenCount":5,"totalTokenCount":415}}',
  ));
  assert.deepEqual(tools.finish(), { input: 410, output: 5, total: 415 });
  const media = kindsOf("gemini", {
    usageMetadata: {
      promptTokenCount: 1000,
      cachedContentTokenCount: 300,
      toolUsePromptTokenCount: 50,
      candidatesTokenCount: 1400,
      promptTokensDetails: [
        { modality: "TEXT", tokenCount: 100 },
        { modality: "IMAGE", tokenCount: 258 },
        { modality: "DOCUMENT", tokenCount: 258 },
        { modality: "VIDEO", tokenCount: 384 },
      ],
      toolUsePromptTokensDetails: [{ modality: "TEXT", tokenCount: 50 }],
      cacheTokensDetails: [{ modality: "VIDEO", tokenCount: 300 }],
      candidatesTokensDetails: [{ modality: "TEXT", tokenCount: 110 }, {
        modality: "IMAGE",
        tokenCount: 1290,
      }],
    },
  });
  assert.deepEqual(media, {
    input: 1050,
    output: 1400,
    total: 2450,
    kinds: {
      input: 150,
      image_input: 516,
      video_input: 84,
      cached_video_input: 300,
      output: 110,
      image_output: 1290,
    },
  });
});

Deno.test("kinds: a Gemini stream's last running total wins, never two kinds for one token", () => {
  const sse = new UsageMeter("gemini", "text/event-stream", { kinds: true });
  feedSplit(
    sse,
    'data: {"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":1290}}\r\n\r\n' +
      'data: {"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":1300,' +
      '"candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":1290}],' +
      '"totalTokenCount":1309}}\r\n\r\n',
    13,
  );
  assert.deepEqual(sse.finish(), {
    input: 9,
    output: 1300,
    total: 1309,
    kinds: { input: 9, output: 10, image_output: 1290 },
  });
});

Deno.test("kinds: Gemini Interactions add tool-use tokens to input and split the cache", () => {
  const json = kindsOf("gemini", {
    id: "i1",
    usage: {
      total_input_tokens: 1000,
      total_cached_tokens: 600,
      total_tool_use_tokens: 40,
      total_output_tokens: 30,
      total_thought_tokens: 8,
      total_tokens: 1078,
      input_tokens_by_modality: [{ modality: "text", tokens: 900 }, {
        modality: "audio",
        tokens: 100,
      }],
      cached_tokens_by_modality: [{ modality: "audio", tokens: 25 }],
    },
  });
  assert.deepEqual(json, {
    input: 1040,
    output: 38,
    total: 1078,
    kinds: {
      input: 365,
      cached_input: 575,
      audio_input: 75,
      cached_audio_input: 25,
      output: 30,
      reasoning: 8,
    },
  });
});

Deno.test("kinds: only when asked for, and never on an estimate", () => {
  const plain = new UsageMeter("openai", "application/json");
  plain.feed(bytes('{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}'));
  assert.equal(plain.finish()?.kinds, undefined);
  const cut = new UsageMeter("anthropic", "text/event-stream", { kinds: true });
  cut.feed(text(
    'data: {"type":"message_start","message":{"usage":{"input_tokens":25,' +
      '"cache_read_input_tokens":100,"output_tokens":1}}}\n\n' +
      'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Bonjour"}}\n\n',
  ));
  assert.deepEqual(cut.charge(900, false), {
    usage: { input: 125, output: 7, total: 132 },
    estimated: true,
  });
});
