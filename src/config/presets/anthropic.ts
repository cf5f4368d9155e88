/**
 * Anthropic: messages, token counting and model listing. Batches, files and the
 * organization admin API stay out.
 *
 * @module
 */
import type { Preset } from "./preset.ts";

/** The `anthropic` preset. */
export const anthropic: Preset = {
  upstream: "https://api.anthropic.com",
  key: { env: "ANTHROPIC_API_KEY", header: "x-api-key", format: "{key}" },
  allow: [
    "POST /v1/messages",
    "POST /v1/messages/count_tokens",
    "GET /v1/models",
    "GET /v1/models/*",
  ],
  usage: "anthropic",
  // Counting tokens takes no cap (it refuses `max_tokens` as an extra input).
  generate: { "POST /v1/messages": ["max_tokens"] },
  strip: {
    headers: [
      "x-api-key", // the API key
      "authorization", // the SDK's `authToken` and OAuth tokens, as Bearer tokens
      // The SDK's `workspace_id` (and a credentials profile's): the workspace a request runs
      // and is billed in, for credentials that reach several.
      "anthropic-workspace-id",
      // The SDK's `user_profile_id`: the user profile a request bills when its body asks for
      // `billing_policy.bill_to: user_profile` (without it the API refuses that body).
      "anthropic-user-profile-id",
    ],
    // The API reads no credential or account from the query string.
    query: [],
  },
};
