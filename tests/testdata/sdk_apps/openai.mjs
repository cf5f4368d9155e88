import OpenAI, { toFile } from "openai";
import { ack, base, runSteps, statusOf, streamUntilRefused, token } from "./common.mjs";

// The client also names an organization and a project: neither may reach the provider.
const client = new OpenAI({
  apiKey: token,
  baseURL: `${base}/openai/v1`,
  organization: "org-client",
  project: "proj-client",
  maxRetries: 0,
});
const messages = [{ role: "user", content: "Hi" }];
const audio = () => toFile(Buffer.from("RIFF0000WAVEfmt "), "a.wav", { type: "audio/wav" });

await runSteps({
  chat: async () => {
    const answer = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      max_tokens: 4000,
    });
    return answer.choices[0].message.content;
  },
  stream: async () => {
    const deltas = [];
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "lockstep:openai_chat" }],
      stream: true,
    });
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta?.content;
      if (text) deltas.push(text);
      if (deltas.length === 1 && text) await ack("openai_chat");
    }
    return deltas;
  },
  response: async () =>
    (await client.responses.create({ model: "gpt-4o-mini", input: "Hi", max_output_tokens: 900 }))
      .output_text,
  response_stream: async () => {
    const deltas = [];
    const stream = await client.responses.create({
      model: "gpt-4o-mini",
      input: "lockstep:openai_responses",
      stream: true,
    });
    for await (const event of stream) {
      // The first event is response.created: the stream is already arriving piece by piece.
      if (event.type === "response.created") await ack("openai_responses");
      if (event.type === "response.output_text.delta") deltas.push(event.delta);
    }
    return deltas;
  },
  completion: async () =>
    (await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Hi" }))
      .choices[0].text,
  embedding: async () =>
    Array.from(
      (await client.embeddings.create({ model: "text-embedding-3-small", input: "hi" }))
        .data[0].embedding,
    ),
  moderation: async () =>
    (await client.moderations.create({ model: "omni-moderation-latest", input: "hi" }))
      .results[0].flagged,
  speech: async () => {
    const audio = await client.audio.speech.create({
      model: "gpt-4o-mini-tts",
      voice: "alloy",
      input: "hi",
    });
    return (await audio.arrayBuffer()).byteLength;
  },
  image: async () =>
    (await client.images.generate({ model: "gpt-image-1", prompt: "a lighthouse" })).data[0]
      .b64_json,
  models: async () => (await client.models.list()).data.map((model) => model.id),
  transcription: async () =>
    (await client.audio.transcriptions.create({ model: "gpt-4o-transcribe", file: await audio() }))
      .text,
  refused: async () => ({
    files: await statusOf(() => client.files.list()),
    batches: await statusOf(() => client.batches.list()),
    fineTuning: await statusOf(() => client.fineTuning.jobs.list()),
    admin: await statusOf(() =>
      client.get("/organization/admin_api_keys").then((r) => r ?? {})
    ),
  }),
  // A route that allows one model: a form names its model as a field.
  models_route: async () => {
    const narrow = new OpenAI({ apiKey: token, baseURL: `${base}/openai-models/v1`, maxRetries: 0 });
    return {
      allowed: (await narrow.audio.transcriptions.create({
        model: "gpt-4o-transcribe",
        file: await audio(),
      })).text,
      other: await statusOf(async () =>
        narrow.audio.transcriptions.create({ model: "whisper-1", file: await audio() })
      ),
    };
  },
  // A token budget of 70 a minute: each answer reports 20 tokens.
  budget: async () => {
    const limited = new OpenAI({ apiKey: token, baseURL: `${base}/openai-budget/v1`, maxRetries: 0 });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        await statusOf(() => limited.chat.completions.create({ model: "gpt-4o-mini", messages })),
      );
    }
    return statuses;
  },
  // Streams of 300 tokens at most through a budget of 1,000 (each uses 20).
  budget_streams: async () => {
    const limited = new OpenAI({ apiKey: token, baseURL: `${base}/openai-streams/v1`, maxRetries: 0 });
    return await streamUntilRefused(async () => {
      const stream = await limited.chat.completions.create({
        model: "gpt-4o-mini",
        messages,
        stream: true,
        max_tokens: 300,
      });
      for await (const _ of stream) { /* read it all */ }
    });
  },
});
