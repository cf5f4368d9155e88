/**
 * Gemini (Generative Language API): generate, stream, count and embed on models, and the
 * Interactions API. Files, tuned models, cached contents, corpora, batches and webhooks stay
 * out. The key travels in `x-goog-api-key`, which keeps it out of URLs and upstream access
 * logs.
 *
 * The Live API (`BidiGenerateContent`, a WebSocket) is in, in API versions `v1`, `v1beta` and
 * `v1alpha`, proxied as a session with the route's rules on its frames.
 *
 * Borderline, decided from the API reference: Interactions are in whole (create, get, which
 * also resumes a stream, cancel and delete), as @google/genai's `interactions` calls them;
 * each names one interaction by an id only its creator was given. There is no listing to
 * keep out; webhooks, which send interaction results to a URL, stay out.
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

/**
 * Every spelling of the output cap, the lowerCamel one first; each settings object's own
 * spelling comes before the mixed one, so a cap added to it is spelled as its name is.
 */
const CAMEL_FIRST = [
  "generationConfig.maxOutputTokens",
  "generation_config.max_output_tokens",
  "generationConfig.max_output_tokens",
  "generation_config.maxOutputTokens",
];
/** The same, the snake_case one first (as the Interactions API documents it). */
const SNAKE_FIRST = [
  "generation_config.max_output_tokens",
  "generationConfig.maxOutputTokens",
  "generation_config.maxOutputTokens",
  "generationConfig.max_output_tokens",
];

/** The Live API's WebSocket method, by API version (`@google/genai` 3 dials `v1`). */
const LIVE = ["v1", "v1beta", "v1alpha"].map((version) =>
  `GET /ws/google.ai.generativelanguage.${version}.GenerativeService.BidiGenerateContent`
);

/** The `gemini` preset. */
export const gemini: Preset = {
  upstream: "https://generativelanguage.googleapis.com",
  key: { env: "GEMINI_API_KEY", header: "x-goog-api-key", format: "{key}" },
  allow: [
    ...["v1", "v1beta"].flatMap((version) => [
      ...ACTIONS.map((action) => `POST /${version}/models/*:${action}`),
      `GET /${version}/models`,
      `GET /${version}/models/*`,
      `POST /${version}/interactions`,
      `GET /${version}/interactions/*`,
      `POST /${version}/interactions/*/cancel`,
      `DELETE /${version}/interactions/*`,
    ]),
    // The Live API, a WebSocket (proxied as a session, see src/realtime/). Its `Constrained`
    // variant takes Google's own ephemeral tokens, which the gateway cannot stand in for.
    ...LIVE,
  ],
  usage: "gemini",
  // Generating endpoints and their caps. Counting and embedding take no `generationConfig`
  // (an unknown name there is a 400). Google's JSON reader takes a field by its proto name or
  // its lowerCamel name, so every spelling of the cap is clamped; a cap the body lacks goes
  // into the settings object it has, else the API's documented one: `generationConfig` for
  // generateContent, `generation_config` for Interactions.
  generate: Object.fromEntries(
    ["v1", "v1beta"].flatMap((version) => [
      ...["generateContent", "streamGenerateContent"].map((action) => [
        `POST /${version}/models/*:${action}`,
        CAMEL_FIRST,
      ]),
      [`POST /${version}/interactions`, SNAKE_FIRST],
    ]),
  ),
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
  realtime: { sockets: Object.fromEntries(LIVE.map((entry) => [entry, "gemini"])) },
  // The browser Live client sends its key in the query (`access_token` for tokens it thinks
  // are ephemeral); both are stripped above.
  clientToken: [{ header: "x-goog-api-key" }, { query: "key" }, { query: "access_token" }],
};

const PATH_MODEL = /\/models\/([^/:]+)/;

/**
 * The model a Gemini path names (`/v1beta/models/gemini-2.0-flash:generateContent`), if any.
 *
 * @example
 * ```ts
 * import { pathModel } from "./gemini.ts";
 *
 * if (pathModel("/v1beta/models/gemini-2.0-flash:generateContent") !== "gemini-2.0-flash") {
 *   throw new Error("missed the model");
 * }
 * ```
 */
export function pathModel(path: string): string | undefined {
  return PATH_MODEL.exec(path)?.[1];
}
