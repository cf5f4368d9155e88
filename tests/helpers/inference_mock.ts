/**
 * A loopback mock of the inference.sh API that records every request and answers the calls
 * the SDK's app runs, agent chats and uploads make, in the API's shapes: tasks and chats as
 * JSON, their streams as NDJSON, an upload as the file record with a signed storage URL
 * (served by the mock too, under `/storage/`).
 *
 * @module
 */
import type { Recorded } from "./mock_upstream.ts";
import { serveLoopback } from "./serve.ts";

/** Ids as the API mints them: lowercase 26-character ULIDs. */
export const IDS = {
  task: "01j9z3m8k2c9v7b4n6q5r0t1wx",
  chat: "01j9z3m8k2c9v7b4n6q5r0c4at",
  userMessage: "01j9z3m8k2c9v7b4n6q5r0m5g1",
  assistantMessage: "01j9z3m8k2c9v7b4n6q5r0m5g2",
  tool: "01j9z3m8k2c9v7b4n6q5r0t001",
  run: "01j9z3m8k2c9v7b4n6q5r0r0n1",
  interrupt: "01j9z3m8k2c9v7b4n6q5r0n7r1",
  file: "01j9z3m8k2c9v7b4n6q5r0f11e",
} as const;

/** A running inference.sh mock. */
export interface InferenceMock {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Host and port, for `target.hosts`. */
  host: string;
  /** Every API request received (uploads to storage are in `uploads`). */
  requests: Recorded[];
  /** Every PUT to the signed storage URL. */
  uploads: Recorded[];
  /** Stops the server. */
  close(): Promise<void>;
}

const TASK_RUNNING = 7;
const TASK_COMPLETED = 10;

const json = (data: unknown) => Response.json(data);
const ndjson = (lines: unknown[]) =>
  new Response(lines.map((line) => JSON.stringify(line) + "\n").join(""), {
    headers: { "content-type": "application/x-ndjson" },
  });

/** Starts the mock on 127.0.0.1 with a free port. */
export async function startInferenceMock(): Promise<InferenceMock> {
  const requests: Recorded[] = [];
  const uploads: Recorded[] = [];
  let base = "";
  const { task, chat, userMessage, assistantMessage } = IDS;
  const server = await serveLoopback(async (request) => {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const recorded = {
      method: request.method,
      url: url.pathname + url.search,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
      body,
    };
    const p = url.pathname;
    if (p.startsWith("/storage/")) {
      uploads.push(recorded);
      return new Response(null, { status: 200 });
    }
    requests.push(recorded);
    const done = { id: task, status: TASK_COMPLETED, output: { text: "done" } };
    const assistant = { id: assistantMessage, chat_id: chat, status: "ready" };
    const idle = { id: chat, status: "idle", chat_messages: [] };
    const post = request.method === "POST";
    if (p === "/files" && post) {
      const declared = JSON.parse(body).files[0];
      return json([{
        id: IDS.file,
        uri: `inf://files/${IDS.file}`,
        filename: declared.filename,
        content_type: declared.content_type,
        upload_url: `${base}/storage/${IDS.file}`,
      }]);
    }
    if (p === "/apps/run") return json({ id: task, status: TASK_RUNNING });
    if (p === `/tasks/${task}`) return json(done);
    if (p === `/tasks/${task}/status`) return json({ status: TASK_COMPLETED });
    if (p === `/tasks/${task}/stream`) return ndjson([{ data: done }]);
    if (p === "/agents/run") {
      return json({
        user_message: { id: userMessage, chat_id: chat },
        assistant_message: assistant,
      });
    }
    if (p === "/chats" && post) return json(idle);
    if (p === `/chats/${chat}/messages` && post) return json({ id: userMessage, chat_id: chat });
    if (p === `/chats/${chat}/messages`) {
      return json({ items: [], next_cursor: "", has_next: false });
    }
    if (p === `/chats/${chat}/status`) return json({ status: "idle" });
    if (p === `/chats/${chat}`) return json(idle);
    if (p === `/chats/${chat}/stream`) {
      return ndjson([
        { event: "chats", data: { id: chat, status: "busy" } },
        { event: "chat_messages", data: assistant },
        { event: "chats", data: { id: chat, status: "idle" } },
      ]);
    }
    if (p.startsWith("/agents/") && !post) {
      return json({ id: "agent1", version: { description: "helper", example_prompts: [] } });
    }
    return json({});
  });
  base = server.url;
  return { url: server.url, host: server.host, requests, uploads, close: server.close };
}
