import { GoogleGenAI } from "@google/genai";
import { ack, base, runSteps, statusOf, streamUntilRefused, token } from "./common.mjs";

// The client also names a project to bill: it may not reach the provider.
const ai = new GoogleGenAI({
  apiKey: token,
  httpOptions: { baseUrl: `${base}/gemini`, headers: { "x-goog-user-project": "client-project" } },
});
const model = "gemini-2.5-flash";

await runSteps({
  generate: async () =>
    (await ai.models.generateContent({
      model,
      contents: "Hi",
      config: { maxOutputTokens: 4000, temperature: 0.5 },
    })).text,
  stream: async () => {
    const deltas = [];
    const stream = await ai.models.generateContentStream({ model, contents: "lockstep:genai" });
    for await (const chunk of stream) {
      deltas.push(chunk.text);
      if (deltas.length === 1) await ack("genai");
    }
    return deltas;
  },
  embedding: async () =>
    (await ai.models.embedContent({ model: "gemini-embedding-001", contents: "hi" }))
      .embeddings[0].values,
  interaction: async () => {
    const interaction = await ai.interactions.create({
      model,
      input: "Hi",
      generation_config: { temperature: 0.5 },
    });
    return { text: interaction.output_text, usage: interaction.usage };
  },
  count: async () => (await ai.models.countTokens({ model, contents: "hi" })).totalTokens,
  models: async () => {
    const names = [];
    for await (const entry of await ai.models.list()) names.push(entry.name);
    return names;
  },
  refused: async () => ({
    files: await statusOf(() => ai.files.list()),
    caches: await statusOf(() => ai.caches.list()),
    batches: await statusOf(() => ai.batches.list()),
  }),
  // Streams of 300 tokens at most through a budget of 1,000 (each uses 16).
  budget_streams: async () => {
    const limited = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl: `${base}/gemini-streams` } });
    return await streamUntilRefused(async () => {
      const stream = await limited.models.generateContentStream({
        model,
        contents: "Hi",
        config: { maxOutputTokens: 300 },
      });
      for await (const _ of stream) { /* read it all */ }
    });
  },
});
