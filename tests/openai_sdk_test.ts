import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

Deno.test("the openai SDK pointed at keyward completes a chat and a streamed chat", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
`,
    { OPENAI_API_KEY: "sk-server-SECRET" },
  );
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: "browser-placeholder" });
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(completion.choices[0].message.content, "Hello from the mock.");

    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Hello from the mock.");

    assert.equal(mock.requests.length, 2);
    for (const seen of mock.requests) {
      assert.equal(seen.path, "/v1/chat/completions");
      assert.equal(seen.headers.authorization, "Bearer sk-server-SECRET");
      assert.equal(JSON.stringify(seen.headers).includes("browser-placeholder"), false);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(gw.logs.map((l) => l.tokens?.total), [10, 10], "preset usage parsing");

    await assert.rejects(
      () => client.files.list(),
      (error: unknown) => error instanceof OpenAI.PermissionDeniedError,
    );
    assert.equal(mock.requests.length, 2, "the denied call never reached the upstream");
  } finally {
    await gw.close();
    await mock.close();
  }
});
