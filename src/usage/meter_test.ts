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
