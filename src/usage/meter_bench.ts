/**
 * What metering an answer costs: an OpenAI stream (usage once, at the end), a Gemini stream
 * (usage in every event) and an Anthropic JSON body, each fed in network-sized chunks.
 * `deno bench src/usage/`.
 *
 * @module
 */
import { UsageMeter, type UsageMeterOptions } from "./meter.ts";

const encoder = new TextEncoder();

function chunks(text: string, size = 1400): Uint8Array[] {
  const bytes = encoder.encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const openaiStream = chunks(
  Array.from(
    { length: 300 },
    (_, i) => `data: {"id":"c1","choices":[{"index":0,"delta":{"content":"word${i} "}}]}\n\n`,
  ).join("") +
    'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":300,' +
    '"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},' +
    '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}}\n\ndata: [DONE]\n\n',
);

const geminiStream = chunks(
  Array.from(
    { length: 300 },
    (_, i) =>
      `data: {"candidates":[{"content":{"parts":[{"text":"word${i} "}],"role":"model"}}],` +
      `"usageMetadata":{"promptTokenCount":4200,"cachedContentTokenCount":2048,` +
      `"candidatesTokenCount":${i + 1},"thoughtsTokenCount":880,"totalTokenCount":${5081 + i},` +
      '"promptTokensDetails":[{"modality":"TEXT","tokenCount":3240},{"modality":"AUDIO",' +
      '"tokenCount":960}]},"modelVersion":"gemini-2.5-flash"}\r\n\r\n',
  ).join(""),
);

const anthropicJson = chunks(JSON.stringify({
  id: "msg_1",
  type: "message",
  content: [{ type: "text", text: "word ".repeat(300) }],
  usage: {
    input_tokens: 50,
    cache_creation_input_tokens: 3000,
    cache_read_input_tokens: 10000,
    cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
    output_tokens: 503,
  },
}));

const cases = [
  ["openai stream", "openai", "text/event-stream", openaiStream],
  ["gemini stream", "gemini", "text/event-stream", geminiStream],
  ["anthropic json", "anthropic", "application/json", anthropicJson],
] as const;

for (const [name, format, type, body] of cases) {
  for (const options of [undefined, { kinds: true }] as (UsageMeterOptions | undefined)[]) {
    Deno.bench(`${name}${options ? ", with kinds" : ""}`, { group: name }, () => {
      const meter = new UsageMeter(format, type, options);
      for (const chunk of body) meter.feed(chunk);
      if (!meter.finish()) throw new Error("no usage");
    });
  }
}
