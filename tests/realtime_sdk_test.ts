/**
 * The providers' own realtime clients through the gateway, against the loopback stand-in:
 * the `openai` SDK's `OpenAIRealtimeWS` (npm `ws`, the token in `Authorization`) and
 * `OpenAIRealtimeWebSocket` (the runtime's WebSocket, the token in a subprotocol), both of
 * which dial `wss://` only, so the gateway is served over TLS with a throwaway CA; and
 * `@google/genai`'s Live client (its key in `?key=`, every server message a binary frame).
 *
 * @module
 */
import assert from "node:assert/strict";
import { GoogleGenAI, type LiveServerMessage, Modality } from "@google/genai";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { startGateway } from "./helpers/gateway.ts";
import { startRealtimeMock } from "./helpers/realtime_mock.ts";
import { makeTestTls } from "./helpers/tls.ts";

const KEY = "sk-upstream-Pm4Nb7Vc1Xz";
const TOKEN = "kw_sdk_Hg5Jk2Lm9";

function yaml(upstream: string): string {
  return `clients:
  - { id: app, token: ${TOKEN} }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
    auth: token
    body: { models: [gpt-realtime], max_tokens: 50 }
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${upstream}
    auth: token
    body: { models: [gemini-live-2.5-flash-preview], max_tokens: 50 }
`;
}

Deno.test({
  name: "the openai SDK's realtime clients and @google/genai's Live client, through the gateway",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const mock = await startRealtimeMock(KEY);
    const tls = await makeTestTls();
    const env = { OPENAI_API_KEY: KEY, GEMINI_API_KEY: KEY };
    const secure = await startGateway(yaml(mock.url), env, undefined, { tls });
    const plain = await startGateway(yaml(mock.url), env);
    const baseURL = `${secure.url}/openai/v1`;
    try {
      await t.step(
        "OpenAIRealtimeWS: session.update clamped, a response, the key upstream",
        async () => {
          const client = new OpenAI({ apiKey: TOKEN, baseURL });
          const rt = new OpenAIRealtimeWS(
            { model: "gpt-realtime", options: { ca: tls.ca } },
            client,
          );
          const updated: unknown[] = [];
          const done = Promise.withResolvers<Record<string, unknown>>();
          rt.on("error", (error) => done.reject(error));
          rt.on("session.created", () => {
            rt.send({
              type: "session.update",
              session: { type: "realtime", output_modalities: ["text"], max_output_tokens: 4096 },
            });
            rt.send({
              type: "conversation.item.create",
              item: {
                type: "message",
                role: "user",
                content: [{ type: "input_text", text: "Hi" }],
              },
            });
            rt.send({ type: "response.create" });
          });
          rt.on("session.updated", (event) => {
            updated.push((event.session as { max_output_tokens?: unknown }).max_output_tokens);
          });
          rt.on("response.done", (event) => done.resolve(event.response as never));
          const response = await done.promise;
          rt.close();
          assert.deepEqual(updated, [50], "the client's own update, clamped; not the gateway's");
          assert.equal(response.status, "completed");
          const upstream = mock.log.findLast((e) => e.provider === "openai")!;
          assert.equal(upstream.headers.authorization, `Bearer ${KEY}`);
          assert.ok(!JSON.stringify(upstream).includes(TOKEN));
        },
      );

      await t.step(
        "OpenAIRealtimeWebSocket: the token in a subprotocol, `realtime` echoed",
        async () => {
          const script = new URL("./sdk/realtime_native_client.ts", import.meta.url).pathname;
          const config = new URL("../deno.json", import.meta.url).pathname;
          const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", "--config", config, "--cert", tls.caPath, script, baseURL, TOKEN],
            stdout: "piped",
            stderr: "piped",
          }).output();
          assert.ok(success, new TextDecoder().decode(stderr));
          const { protocol, seen } = JSON.parse(new TextDecoder().decode(stdout));
          assert.equal(protocol, "realtime");
          const done = seen.find((e: { type: string }) => e.type === "response.done");
          assert.equal(done?.response.max_output_tokens, 50);
          const upstream = mock.log.findLast((e) => e.provider === "openai")!;
          assert.deepEqual(upstream.protocols, ["realtime"], "the token protocol stayed here");
        },
      );

      await t.step("@google/genai Live: setup clamped, text back, usage metered", async () => {
        const ai = new GoogleGenAI({
          apiKey: TOKEN,
          httpOptions: { baseUrl: `${plain.url}/gemini` },
        });
        const messages: LiveServerMessage[] = [];
        const turn = Promise.withResolvers<void>();
        const session = await ai.live.connect({
          model: "gemini-live-2.5-flash-preview",
          config: { responseModalities: [Modality.TEXT], maxOutputTokens: 4000 },
          callbacks: {
            onmessage: (message) => {
              messages.push(message);
              if (message.serverContent?.turnComplete) turn.resolve();
            },
            onerror: (error) => turn.reject(error),
          },
        });
        session.sendClientContent({
          turns: [{ role: "user", parts: [{ text: "hello from the sdk" }] }],
          turnComplete: true,
        });
        await turn.promise;
        session.close();
        const text = messages.map((m) => m.serverContent?.modelTurn?.parts?.[0]?.text ?? "")
          .join("");
        assert.equal(text, "echo: hello from the sdk");
        const upstream = mock.log.findLast((e) => e.provider === "gemini")!;
        assert.match(upstream.path, /\.v1\.GenerativeService/, "the SDK's default API version");
        assert.match(upstream.received[0], /"maxOutputTokens":50/);
        assert.ok(!("key" in upstream.query));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const line = plain.logs.findLast((l) => l.path.startsWith("/gemini/ws/"));
        assert.ok(line?.tokens && line.tokens.output > 0);
      });
    } finally {
      await secure.close();
      await plain.close();
      await mock.close();
      await tls.remove();
    }
  },
});
