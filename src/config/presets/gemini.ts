/**
 * Gemini (Generative Language API): generate, stream, count and embed on models. Files,
 * tuned models, cached contents and corpora stay out. The key travels in `x-goog-api-key`,
 * which keeps it out of URLs and upstream access logs.
 *
 * @module
 */
import type { Preset } from "./preset.ts";

const ACTIONS = [
  "generateContent",
  "streamGenerateContent",
  "countTokens",
  "embedContent",
  "batchEmbedContents",
];

/** The `gemini` preset. */
export const gemini: Preset = {
  upstream: "https://generativelanguage.googleapis.com",
  key: { env: "GEMINI_API_KEY", header: "x-goog-api-key", format: "{key}" },
  allow: [
    ...["v1", "v1beta"].flatMap((version) => [
      ...ACTIONS.map((action) => `POST /${version}/models/*:${action}`),
      `GET /${version}/models`,
      `GET /${version}/models/*`,
    ]),
  ],
  usage: "gemini",
};
