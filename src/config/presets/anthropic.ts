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
};
