import { embed, generateSpeech, generateText, streamText, transcribe } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { ack, base, runSteps, token } from "./common.mjs";

const openai = createOpenAI({
  apiKey: token,
  baseURL: `${base}/openai/v1`,
  organization: "org-client",
  project: "proj-client",
});
const anthropic = createAnthropic({ apiKey: token, baseURL: `${base}/anthropic/v1` });
const google = createGoogleGenerativeAI({ apiKey: token, baseURL: `${base}/gemini/v1beta` });

async function text(model) {
  return (await generateText({ model, prompt: "Hi", maxRetries: 0 })).text;
}

async function deltas(model, name) {
  const pieces = [];
  const result = streamText({ model, prompt: `lockstep:${name}`, maxRetries: 0 });
  for await (const piece of result.textStream) {
    pieces.push(piece);
    if (pieces.length === 1) await ack(name);
  }
  return pieces;
}

async function vector(model) {
  return (await embed({ model, value: "hi", maxRetries: 0 })).embedding;
}

const googleEmbedding = google.embedding ?? google.textEmbeddingModel;

await runSteps({
  openai_text: () => text(openai.chat("gpt-4o-mini")),
  openai_stream: () => deltas(openai.chat("gpt-4o-mini"), "ai_openai_chat"),
  // The provider's default model speaks the Responses API.
  openai_responses_text: () => text(openai("gpt-4o-mini")),
  openai_responses_stream: () => deltas(openai("gpt-4o-mini"), "ai_openai_responses"),
  openai_embed: () => vector(openai.embedding("text-embedding-3-small")),
  openai_transcribe: async () =>
    (await transcribe({
      model: openai.transcription("gpt-4o-transcribe"),
      audio: new Uint8Array(Buffer.from("RIFF0000WAVEfmt ")),
      maxRetries: 0,
    })).text,
  openai_speech: async () =>
    (await generateSpeech({ model: openai.speech("gpt-4o-mini-tts"), text: "hi", maxRetries: 0 }))
      .audio.uint8Array.length,
  anthropic_text: () => text(anthropic("claude-sonnet-4-5")),
  anthropic_stream: () => deltas(anthropic("claude-sonnet-4-5"), "ai_anthropic"),
  google_text: () => text(google("gemini-2.5-flash")),
  google_stream: () => deltas(google("gemini-2.5-flash"), "ai_google"),
  google_embed: () => vector(googleEmbedding.call(google, "gemini-embedding-001")),
});
