/**
 * inference.sh through the `@inferencesh/sdk` proxy protocol: the browser SDK names the
 * upstream URL in `x-inf-target-url` (or `__inf_target` for EventSource). The preset forwards
 * what a frontend needs to run things (run an app, start or continue an agent chat, read or
 * stream the resulting task or chat, upload one input file) and nothing else: every visitor
 * shares the owner's key, so anything that reads the account, changes it, or sends its
 * results elsewhere stays out. It lets every call of the SDK's client through and forwards
 * nothing the SDK's own proxy policy refuses; where it is stricter (a dot segment in a target
 * path, an ad-hoc `agent_config` without an app list, repeated keys), docs/configuration.md says
 * so, and tests/inference_oracle_test.ts compares the two request by request. Methods match
 * exactly, as that policy's do: a `GET` entry takes no `HEAD`.
 *
 * Ids. The API mints lowercase 26-character ULIDs, and many routes sit beside an id route
 * with a literal segment (`/tasks/stream` is the live feed of every task the key can read,
 * `/tasks/featured`, `/tasks/queue-stats`, `/chats/list`, `/chats/stream`, `/files/list`):
 * every id segment is `{ulid}`, which never matches them.
 *
 * In, and why:
 * - `POST /apps/run`: only `app` (or `app_id`/`version_id`), `function`, `input`, `stream`
 *   and `wait`. Out: `webhook` (sends results to any URL), `session` and `session_timeout`
 *   (another visitor's warm session), `workers` and `infra` (the owner's private workers),
 *   `setup` (app setup, e.g. a bigger model), `metadata`, `run_at` (scheduled runs).
 * - `GET /tasks/{id}`, `/status`, `/stream`, `POST /tasks/{id}/cancel`: follow or stop a run.
 *   Whoever holds a task id may use it; the id is the only boundary between visitors.
 * - `POST /agents/run` with `chat_id`, `agent`, `input`, `context`, `stream`: what
 *   `agent().sendMessage` sends. Out: `agent_config`, an ad-hoc agent the visitor defines,
 *   whose tools can call any URL with the account's secrets and skip approvals (the SDK's
 *   proxy refuses it only with an app list; this preset always does), and `agent_name`.
 * - `POST /chats` (`agent`, `context`) and `POST /chats/{id}/messages` (`message`): the chat
 *   provider's way to start and continue a chat. `POST /chats/{id}/agent` (`agent`): hand
 *   the chat to another agent, which `body.apps` checks like a new chat.
 * - `GET /chats/{id}`, `/status`, `/messages`, `/stream`, `POST /chats/{id}/stop`,
 *   `POST /chats/messages/{id}/cancel`: follow, stop or cancel a chat the visitor holds.
 * - `POST /tools/{id}` (`result`, or a widget's `action` and a form's `form_data`): answer a
 *   client tool call the visitor's own page runs (a widget, a form), as the SDK's
 *   `submitToolResult(id, resultOrAction)` sends it.
 * - `GET /agents/{namespace}/{name}`: an agent's public info (description, example prompts)
 *   the chat provider shows; checked against `body.apps`. Agent ids (`/agents/{ulid}/...`)
 *   and the routes beside a name (`card`, `versions`, `rules`) never match.
 * - `POST /files`: one file declared per request (`files: [{ filename, content_type, size,
 *   uri: "" }]`), its size within `max_upload` (100 MiB unless the route says); the bytes
 *   go straight to storage on the URL the API answers with. Out: `category`, and a file's
 *   `path`, which would put the file anywhere in the account's file tree.
 *
 * Out, and why:
 * - Approvals: `POST /tools/{id}/invoke` and `/reject`, `/chats/{id}/tools/...`
 *   (always-allow, explain), `POST /interrupts/{id}/resolve`, `GET /agent-runs/{id}/...`,
 *   `POST /chats/{id}/settings` (allow all tools). The API takes them only from the account
 *   holder's own sign-in, never from a key; agents behind a proxy should not use
 *   approval-gated tools.
 * - Listings and feeds: `/tasks/stream`, `/tasks/list`, `/tasks/featured`,
 *   `/tasks/queue-stats`, `/chats/list`, `/chats/stream`, `/files/list`, `GET /files/{id}`
 *   (any file of the account by id), `/agents/list`: they read every visitor's work.
 * - The account: API keys, secrets, integrations, billing, `/me`, teams, projects, and app,
 *   agent, flow and file management (create, update, delete, visibility, transfer).
 *
 * @module
 */
import type { FieldPolicy, Preset } from "./preset.ts";

/** A ULID segment: what the API's task, chat, message and tool call ids look like. */
const ID = "{ulid}";

/** The fields an upload may declare; `uri` must stay empty (the API sets it). */
const UPLOAD = { fields: ["uri", "filename", "content_type", "size"], empty: ["uri"] };

/**
 * `/agents/{namespace}/{name}`: a namespace that is not an agent id, and a name (with an
 * optional `@version`) that is not one of the routes beside it.
 */
const AGENT_INFO = "/agents/{namespace:(?![0-7][0-9a-hjkmnp-tv-z]{25}$)[A-Za-z0-9._-]+}/" +
  "{name:(?!(?:card|versions|rules|duplicate|transfer|visibility)$)" +
  "[A-Za-z0-9._-]+(?:@[A-Za-z0-9._-]+)?}";

/** The body field policy: one entry for every path that takes a body. */
const fields: FieldPolicy = {
  endpoints: {
    "/apps/run": {
      fields: ["app", "app_id", "version_id", "function", "input", "stream", "wait"],
      ref: "app",
      refAliases: ["app_id", "version_id"],
    },
    "/files": { fields: ["files"], upload: UPLOAD },
    [`/tasks/${ID}/cancel`]: { fields: [] },
    "/agents/run": {
      fields: ["chat_id", "agent", "input", "context", "stream"],
      ref: "agent",
    },
    "/chats": { fields: ["agent", "context"], ref: "agent" },
    [`/chats/${ID}/messages`]: { fields: ["message"] },
    [`/chats/${ID}/agent`]: { fields: ["agent"], ref: "agent" },
    [`/chats/${ID}/stop`]: { fields: [] },
    [`/chats/messages/${ID}/cancel`]: { fields: [] },
    [`/tools/${ID}`]: { fields: ["result", "action", "form_data"] },
  },
  pathRef: { glob: AGENT_INFO, prefix: "/agents/" },
  maxUpload: 100 * 1024 * 1024,
};

/** The `inference.sh` preset. */
export const inferenceSh: Preset = {
  target: {
    header: "x-inf-target-url",
    query: "__inf_target",
    hosts: ["inference.sh", "*.inference.sh"],
  },
  key: { env: "INFERENCE_API_KEY", header: "authorization", format: "Bearer {key}" },
  // The SDK's proxy matches methods exactly: a HEAD is no call of its client.
  head: false,
  allow: [
    "POST /apps/run",
    `GET /tasks/${ID}`,
    `GET /tasks/${ID}/status`,
    `GET /tasks/${ID}/stream`,
    `POST /tasks/${ID}/cancel`,
    "POST /agents/run",
    "POST /chats",
    `POST /chats/${ID}/messages`,
    `POST /chats/${ID}/agent`,
    `GET ${AGENT_INFO}`,
    `GET /chats/${ID}`,
    `GET /chats/${ID}/status`,
    `GET /chats/${ID}/messages`,
    `GET /chats/${ID}/stream`,
    `POST /chats/${ID}/stop`,
    `POST /chats/messages/${ID}/cancel`,
    `POST /tools/${ID}`,
    "POST /files",
  ],
  // A key's workspace (`team`) is fixed when the key is made; no header or parameter picks
  // another, so the credentials are all there is to drop.
  // Apps take their own inputs, which no output cap names: `max_tokens` clamps nothing here.
  generate: {},
  strip: {
    headers: [
      "authorization", // the API key, as a Bearer token
      "x-api-key", // the key header of the SDK's API-key tool auth
    ],
    query: ["access_token"], // the token the SDK's live sessions put in their URLs
  },
  fields,
};
