/**
 * OpenAI: chat, responses, embeddings, images, audio and model listing. Files, uploads,
 * batches, fine-tuning, assistants, vector stores, organization and admin keys stay out.
 *
 * Borderline, decided from the API reference:
 * - In: what a stateful Responses app calls: counting input tokens, compacting a long
 *   conversation (a model call, metered like the others), a stored response's input items,
 *   deleting a response, and Conversations (create, read, update, delete, and their items).
 *   Each of these names one object by an id only its creator was given, so a client reaches
 *   only what it made or was handed; keyward does not track which client made which.
 * - Out: anything that lists what the account holds (`GET /v1/conversations`, stored chat
 *   completions), since a listing shows every user's objects to any client.
 * - Realtime: the WebSocket `GET /v1/realtime` is in, proxied as a session with the route's
 *   rules on its frames; so is `POST /v1/realtime/client_secrets` (ephemeral keys for WebRTC),
 *   with its model checked and its lifetime capped, but refused where tokens or dollars are
 *   counted: what such a key spends never passes the gateway.
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
    "POST /v1/responses/input_tokens",
    "POST /v1/responses/compact",
    "GET /v1/responses/*",
    "DELETE /v1/responses/*",
    "POST /v1/responses/*/cancel",
    "GET /v1/responses/*/input_items",
    "POST /v1/conversations",
    "GET /v1/conversations/*",
    "POST /v1/conversations/*",
    "DELETE /v1/conversations/*",
    "GET /v1/conversations/*/items",
    "POST /v1/conversations/*/items",
    "GET /v1/conversations/*/items/*",
    "DELETE /v1/conversations/*/items/*",
    "POST /v1/embeddings",
    "POST /v1/moderations",
    "POST /v1/images/generations",
    "POST /v1/images/edits",
    "POST /v1/audio/speech",
    "POST /v1/audio/transcriptions",
    "POST /v1/audio/translations",
    "GET /v1/models",
    "GET /v1/models/*",
    // Realtime: the WebSocket (proxied as a session, see src/realtime/) and the ephemeral keys
    // a browser's WebRTC connection needs (refused on routes that count tokens or dollars).
    "GET /v1/realtime",
    "POST /v1/realtime/client_secrets",
  ],
  usage: "openai",
  // Each generating endpoint's own cap field. Embeddings, moderations, images, speech and
  // transcriptions take none and refuse a field they do not know, so the clamp leaves them
  // alone. Compacting takes no cap but runs a model, so its body must name an allowed one.
  generate: {
    // `max_tokens` is the older name, refused by reasoning models: clamped only when sent.
    "POST /v1/chat/completions": ["max_completion_tokens", "max_tokens"],
    "POST /v1/completions": ["max_tokens"],
    "POST /v1/responses": ["max_output_tokens"],
    "POST /v1/responses/compact": [],
  },
  realtime: {
    sockets: { "GET /v1/realtime": "openai" },
    secrets: "POST /v1/realtime/client_secrets",
  },
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
