/**
 * `@inferencesh/sdk` for tests: its extensionless imports load in neither Deno nor plain Node
 * ESM, so a `deno bundle` of tests/sdk/inferencesh_entry.ts is made once and imported.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The parts of the SDK client the tests drive. */
export interface InferenceClient {
  run(params: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
  cancel(taskId: string): Promise<unknown>;
  getTask(taskId: string): Promise<unknown>;
  uploadFile(data: Blob | string, options?: Record<string, unknown>): Promise<{ uri: string }>;
  agent(config: unknown, options?: Record<string, unknown>): InferenceAgent;
  http: {
    request(
      method: string,
      endpoint: string,
      options?: { data?: unknown; params?: Record<string, unknown> },
    ): Promise<{ data: unknown }>;
  };
  tasks: { list(params?: unknown): Promise<unknown>; get(id: string): Promise<{ data: unknown }> };
  chats: {
    list(params?: unknown): Promise<unknown>;
    getStatus(chatId: string): Promise<unknown>;
    cancelMessage(messageId: string): Promise<unknown>;
    update(chatId: string, data: unknown): Promise<unknown>;
    getTrace(chatId: string): Promise<unknown>;
  };
  files: { list(params?: unknown): Promise<unknown>; get(id: string): Promise<unknown> };
  agents: {
    get(id: string): Promise<unknown>;
    getByName(namespace: string, name: string): Promise<unknown>;
    submitToolResult(id: string, result: string): Promise<unknown>;
    resolveInterrupt(id: string, decision: string): Promise<unknown>;
    listRunInterrupts(runId: string): Promise<unknown>;
  };
  apiKeys: { list(): Promise<unknown> };
  secrets: { list(): Promise<unknown> };
}

/** An agent chat from `client.agent(...)`. */
export interface InferenceAgent {
  sendMessage(text: string, options?: Record<string, unknown>): Promise<unknown>;
  getChat(): Promise<unknown>;
  stopChat(): Promise<void>;
  submitToolResult(id: string, result: string): Promise<void>;
  disconnect(): void;
}

let loaded: Promise<{ Inference: new (config: object) => InferenceClient }> | undefined;

/** Bundles and imports the SDK (once per test process). */
export function loadInferenceSdk(): Promise<
  { Inference: new (config: object) => InferenceClient }
> {
  loaded ??= (async () => {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/inferencesh.js`;
    const entry = new URL("../sdk/inferencesh_entry.ts", import.meta.url).pathname;
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform=deno", "-o", out, entry],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    return await import(`file://${out}`);
  })();
  return loaded;
}
