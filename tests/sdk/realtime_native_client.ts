/**
 * The openai SDK's realtime client on the runtime's own WebSocket
 * (`OpenAIRealtimeWebSocket`: subprotocols `realtime` and `openai-insecure-api-key.<key>`), run
 * in its own Deno process so that it can trust a test CA (`deno run --cert`): one turn through
 * the gateway at `baseURL` (args: baseURL, token), then the events it saw as JSON on stdout.
 *
 * @module
 */
import OpenAI from "openai";
import { OpenAIRealtimeWebSocket } from "openai/realtime/websocket";

const [baseURL, token] = Deno.args;
const client = new OpenAI({ apiKey: token, baseURL });
const rt = new OpenAIRealtimeWebSocket({ model: "gpt-realtime" }, client);
const seen: unknown[] = [];
const done = Promise.withResolvers<void>();
rt.on("error", (error) => {
  seen.push({ type: "client_error", message: String(error?.message ?? error) });
  done.resolve();
});
rt.on("session.created", () => {
  rt.send({
    type: "conversation.item.create",
    item: { type: "message", role: "user", content: [{ type: "input_text", text: "Say hi" }] },
  });
  rt.send({ type: "response.create" });
});
rt.socket.addEventListener("message", (event) => seen.push(JSON.parse(String(event.data))));
rt.on("response.done", () => done.resolve());
await done.promise;
const protocol = rt.socket.protocol;
rt.close();
console.log(JSON.stringify({ protocol, seen }));
