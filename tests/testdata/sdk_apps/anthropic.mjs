import Anthropic from "@anthropic-ai/sdk";
import { ack, base, runSteps, statusOf, streamUntilRefused, token } from "./common.mjs";

// The client also names a workspace: it may not reach the provider.
const client = new Anthropic({
  apiKey: token,
  baseURL: `${base}/anthropic`,
  maxRetries: 0,
  defaultHeaders: { "anthropic-workspace-id": "wrkspc_client" },
});
const model = "claude-sonnet-4-5";
const messages = [{ role: "user", content: "Hi" }];

await runSteps({
  message: async () => {
    const answer = await client.messages.create({ model, max_tokens: 4000, messages });
    return answer.content[0].text;
  },
  stream: async () => {
    const deltas = [];
    const stream = client.messages.stream({
      model,
      max_tokens: 4000,
      messages: [{ role: "user", content: "lockstep:anthropic" }],
    });
    for await (const event of stream) {
      if (event.type === "message_start") await ack("anthropic");
      if (event.type === "content_block_delta") deltas.push(event.delta.text);
    }
    return { deltas, usage: (await stream.finalMessage()).usage };
  },
  count: async () => (await client.messages.countTokens({ model, messages })).input_tokens,
  models: async () => (await client.models.list()).data.map((entry) => entry.id),
  refused: async () => ({
    batches: await statusOf(() => client.messages.batches.list()),
    files: await statusOf(() => client.beta.files.list()),
    admin: await statusOf(() => client.get("/v1/organizations/api_keys")),
  }),
  // Streams of 300 tokens at most through a budget of 1,000 (each uses 20).
  budget_streams: async () => {
    const limited = new Anthropic({ apiKey: token, baseURL: `${base}/anthropic-streams`, maxRetries: 0 });
    return await streamUntilRefused(async () => {
      const stream = limited.messages.stream({ model, max_tokens: 300, messages });
      for await (const _ of stream) { /* read it all */ }
      await stream.finalMessage();
    });
  },
});
