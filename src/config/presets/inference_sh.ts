/**
 * inference.sh through the `@inferencesh/sdk` proxy protocol: the browser SDK names the
 * upstream URL in `x-inf-target-url` (or `__inf_target` for EventSource). Running apps and
 * agents, following their tasks and chats, and uploading input files are allowed; API keys,
 * secrets, teams, projects and app management stay out.
 *
 * @module
 */
import type { Preset } from "./preset.ts";

/** The `inference.sh` preset. */
export const inferenceSh: Preset = {
  target: {
    header: "x-inf-target-url",
    query: "__inf_target",
    hosts: ["inference.sh", "*.inference.sh"],
  },
  key: { env: "INFERENCE_API_KEY", header: "authorization", format: "Bearer {key}" },
  allow: [
    "POST /apps/run",
    "GET /tasks/*",
    "GET /tasks/*/status",
    "GET /tasks/*/stream",
    "POST /tasks/*/cancel",
    "POST /agents/run",
    "GET /chats/*",
    "GET /chats/*/status",
    "GET /chats/*/stream",
    "GET /chats/*/messages",
    "POST /chats/*/stop",
    "POST /tools/*",
    "POST /files",
    "GET /files/*",
  ],
  // A key's workspace (`team`) is fixed when the key is made; no header or parameter picks
  // another, so the credentials are all there is to drop.
  strip: {
    headers: [
      "authorization", // the API key, as a Bearer token
      "x-api-key", // the key header of the SDK's API-key tool auth
    ],
    query: ["access_token"], // the token the SDK's live sessions put in their URLs
  },
};
