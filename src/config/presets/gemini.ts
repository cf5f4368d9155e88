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
  // Google's system parameters (cloud.google.com/apis/docs/system-parameters) name each of
  // these as a header and as a query parameter, the latter also with a `$` prefix.
  strip: {
    headers: [
      "x-goog-api-key", // the API key (what @google/genai and @ai-sdk/google send)
      "authorization", // an OAuth access token
      "x-goog-user-project", // the project a request's quota and billing are charged to
      "x-goog-quota-user", // whose per-user quota a request counts against
    ],
    query: [
      "key", // the API key, as curl examples send it
      "$key",
      "access_token", // an OAuth access token
      "userProject", // as x-goog-user-project
      "$userProject",
      "quotaUser", // as x-goog-quota-user
      "$quotaUser",
    ],
  },
  clientToken: [{ header: "x-goog-api-key" }],
};
