import assert from "node:assert/strict";
import { UsageMeter } from "./usage.ts";

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
