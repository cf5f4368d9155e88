/**
 * OpenAI: chat, responses, embeddings, images, audio and model listing. Files, uploads,
 * batches, fine-tuning, assistants, vector stores, organization and admin keys stay out.
 *
 * @module
 */
import type { Preset } from "./preset.ts";

/** The `openai` preset. */
export const openai: Preset = {
  upstream: "https://api.openai.com",
  key: { env: "OPENAI_API_KEY", header: "authorization", format: "Bearer {key}" },
  allow: [
    "POST /v1/chat/completions",
    "POST /v1/completions",
    "POST /v1/responses",
    "GET /v1/responses/*",
    "POST /v1/responses/*/cancel",
    "POST /v1/embeddings",
    "POST /v1/moderations",
    "POST /v1/images/generations",
    "POST /v1/images/edits",
    "POST /v1/audio/speech",
    "POST /v1/audio/transcriptions",
    "POST /v1/audio/translations",
    "GET /v1/models",
    "GET /v1/models/*",
  ],
  usage: "openai",
  strip: {
    headers: [
      "authorization", // the SDK's `apiKey`, as a Bearer token
      "api-key", // the key header of the SDK's Azure client, which the SDK also counts as a key
      "openai-organization", // the SDK's `organization`: which organization the key bills
      "openai-project", // the SDK's `project`: which project the key bills and is limited by
    ],
    // The API reads no credential or account from the query string.
    query: [],
  },
};
