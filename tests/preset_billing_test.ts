/**
 * Who pays: through a preset route the provider sees the route's key and account, never a
 * credential or account selector the client sent, in a header or in the query string. Real
 * SDKs (`openai`, `@google/genai`, `@fal-ai/client`) call a preset route whose upstream is a
 * recording loopback mock.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createFalClient } from "@fal-ai/client";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { createGateway } from "../mod.ts";
import type { RequestRecord } from "../src/observe/log.ts";
import { startGateway } from "./helpers/gateway.ts";
import { type Recorded, startMockUpstream } from "./helpers/mock_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

Deno.env.set("KW_BILLING_FAL_KEY", "fal-server-SECRET");

/** Every header name and value the mock received, and the URL, as one string to search. */
function seenText(seen: Recorded): string {
  return JSON.stringify(seen.headers) + seen.url;
}

Deno.test("openai SDK: the client's organization, project and key never reach OpenAI", async () => {
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
    const client = new OpenAI({
      baseURL: `${gw.url}/openai/v1`,
      apiKey: "sk-client-OWN",
      organization: "org-client-PICKED",
      project: "proj_client_PICKED",
    });
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(completion.choices[0].message.content, "Hello from the mock.");
    // Azure's key header, which the SDK also treats as a key, sent by hand.
    const raw = await fetch(`${gw.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "api-key": "sk-client-OWN",
        "OpenAI-Organization": "org-client-PICKED",
      },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [] }),
    });
    assert.equal(raw.status, 200);
    await raw.body?.cancel();

    assert.equal(mock.requests.length, 2);
    for (const seen of mock.requests) {
      assert.equal(seen.headers.authorization, "Bearer sk-server-SECRET");
      assert.equal(seen.headers["openai-organization"], undefined);
      assert.equal(seen.headers["openai-project"], undefined);
      assert.equal(seen.headers["api-key"], undefined);
      assert.doesNotMatch(seenText(seen), /client/i);
    }
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("a route's own organization and project are sent, whatever the client says", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    headers:
      OpenAI-Organization: org-server
      openai-project: proj_server
`,
    { OPENAI_API_KEY: "sk-server-SECRET" },
  );
  try {
    const client = new OpenAI({
      baseURL: `${gw.url}/openai/v1`,
      apiKey: "unused",
      organization: "org-client-PICKED",
      project: "proj_client_PICKED",
    });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
    const [seen] = mock.requests;
    assert.equal(seen.headers["openai-organization"], "org-server");
    assert.equal(seen.headers["openai-project"], "proj_server");
    assert.doesNotMatch(seenText(seen), /client/i);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: a client's ?key=, access token or quota project is dropped, in any spelling", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
routes:
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${mock.url}
`,
    { GEMINI_API_KEY: "AIza-server-SECRET" },
  );
  try {
    const base = `${gw.url}/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent`;
    const queries = [
      "alt=sse&key=client-KEY",
      "key=client-KEY&alt=sse",
      "alt=sse&KEY=client-KEY",
      "alt=sse&%6Bey=client-KEY",
      "alt=sse&%24key=client-KEY",
      "alt=sse&$key=client-KEY",
      "alt=sse;key=client-KEY",
      "alt=sse&access_token=client-TOKEN",
      "alt=sse&userProject=client-PROJECT",
      "alt=sse&%24userProject=client-PROJECT",
      "alt=sse&quotaUser=client-USER",
      "alt=sse&key=client-A&key=client-B",
    ];
    for (const query of queries) {
      const response = await fetch(`${base}?${query}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-goog-user-project": "client-PROJECT",
          "x-goog-quota-user": "client-USER",
          authorization: "Bearer client-OAUTH",
        },
        body: "{}",
      });
      assert.equal(response.status, 200, query);
      await response.body?.cancel();
    }
    assert.equal(mock.requests.length, queries.length);
    mock.requests.forEach((seen, i) => {
      assert.equal(seen.url.split("?")[1], "alt=sse", queries[i]);
      assert.equal(seen.headers["x-goog-api-key"], "AIza-server-SECRET");
      assert.doesNotMatch(seenText(seen), /client/i, queries[i]);
    });
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("@google/genai: the user's keyward token as apiKey is accepted and never forwarded", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
clients:
  - { id: alice, token: alice-keyward-TOKEN }
routes:
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${mock.url}
    auth: token
`,
    { GEMINI_API_KEY: "AIza-server-SECRET" },
  );
  try {
    const ai = new GoogleGenAI({
      apiKey: "alice-keyward-TOKEN",
      httpOptions: { baseUrl: `${gw.url}/gemini`, apiVersion: "v1beta" },
    });
    // The mock answers unknown paths with a JSON echo; the SDK only needs a 2xx here.
    await ai.models.generateContent({ model: "gemini-2.0-flash", contents: "Hi" });
    assert.equal(mock.requests.length, 1);
    const [seen] = mock.requests;
    assert.equal(seen.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert.equal(seen.headers["x-goog-api-key"], "AIza-server-SECRET");
    assert.doesNotMatch(seenText(seen), /keyward-TOKEN/);
    assert.equal(gw.logs.at(-1)?.client, "alice");

    const stranger = new GoogleGenAI({
      apiKey: "not-a-client",
      httpOptions: { baseUrl: `${gw.url}/gemini`, apiVersion: "v1beta" },
    });
    await assert.rejects(
      () => stranger.models.generateContent({ model: "gemini-2.0-flash", contents: "Hi" }),
      (error: { status?: number }) => error.status === 401,
    );
    assert.equal(mock.requests.length, 1, "a refused token reaches nothing");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("anthropic: the client's workspace and billed user profile never reach Anthropic", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
routes:
  - name: anthropic
    path: /anthropic
    preset: anthropic
    upstream: ${mock.url}
`,
    { ANTHROPIC_API_KEY: "sk-ant-server-SECRET" },
  );
  try {
    const response = await fetch(`${gw.url}/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": "sk-ant-client-OWN",
        authorization: "Bearer client-OAUTH",
        "anthropic-workspace-id": "wrkspc_client",
        "anthropic-user-profile-id": "uprof_client",
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [] }),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const [seen] = mock.requests;
    assert.equal(seen.headers["x-api-key"], "sk-ant-server-SECRET");
    assert.equal(seen.headers["anthropic-version"], "2023-06-01");
    assert.doesNotMatch(seenText(seen), /client/i);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("@fal-ai/client: a user's token given as credentials (Authorization: Key) is accepted", async () => {
  const mock = await startMockUpstream();
  const logs: RequestRecord[] = [];
  // The fal client names only fal's own hosts: the gateway's request leaves over a real
  // socket to the mock instead.
  const toMock: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return fetch(new URL(url.pathname + url.search, mock.url), init);
  };
  const gateway = await createGateway(
    `
clients:
  - { id: bob, token: bob-keyward-TOKEN }
routes:
  - name: fal
    path: /api/fal/proxy
    preset: fal
    auth: token
    key: { env: KW_BILLING_FAL_KEY }
`,
    undefined,
    { upstreamFetch: toMock, log: (record) => logs.push(structuredClone(record)) },
  );
  const gw = await serveLoopback(gateway.fetch);
  try {
    const fal = createFalClient({
      credentials: "bob-keyward-TOKEN",
      proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: "always" },
    });
    const result = await fal.run("fal-ai/fast-sdxl", { input: { prompt: "a lighthouse" } });
    assert.deepEqual(result.data, { ok: true, path: "/fal-ai/fast-sdxl", method: "POST" });
    const [seen] = mock.requests;
    assert.equal(seen.headers.authorization, "Key fal-server-SECRET");
    assert.doesNotMatch(seenText(seen), /keyward-TOKEN/);
    assert.equal(logs.at(-1)?.client, "bob");

    // fal's browser-stream token in the target URL is a credential too.
    const response = await fetch(`${gw.url}/api/fal/proxy`, {
      method: "POST",
      headers: {
        authorization: "Key bob-keyward-TOKEN",
        "x-fal-target-url": "https://fal.run/fal-ai/x/stream?fal_jwt_token=client-JWT&a=1",
      },
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(mock.requests[1].url, "/fal-ai/x/stream?a=1");

    const stranger = await fetch(`${gw.url}/api/fal/proxy`, {
      method: "POST",
      headers: { authorization: "Key not-a-client", "x-fal-target-url": "https://fal.run/a/b" },
    });
    assert.equal(stranger.status, 401);
    await stranger.body?.cancel();
    assert.equal(mock.requests.length, 2);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("a route's target overrides the preset's field by field: the EventSource fallback stays", async () => {
  const mock = await startMockUpstream();
  const port = new URL(mock.url).port;
  const gw = await startGateway(
    `
routes:
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
    target: { header: x-inf-target-url, hosts: ["127.0.0.1:${port}"] }
`,
    { INFERENCE_API_KEY: "inf-server-SECRET" },
  );
  try {
    const target = `${mock.url}/tasks/01jq3v4k5m6n7p8q9r0s1t2v3w/stream`;
    const response = await fetch(
      `${gw.url}/api/inference/proxy?__inf_target=${encodeURIComponent(target)}`,
    );
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(mock.requests[0].url, "/tasks/01jq3v4k5m6n7p8q9r0s1t2v3w/stream");
    assert.equal(mock.requests[0].headers.authorization, "Bearer inf-server-SECRET");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("a method override header never reaches the upstream, which would bypass the allow list", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
routes:
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${mock.url}
`,
    { GEMINI_API_KEY: "AIza-server-SECRET" },
  );
  try {
    const response = await fetch(`${gw.url}/gemini/v1beta/models/gemini-2.0-flash:countTokens`, {
      method: "POST",
      headers: {
        "x-http-method-override": "DELETE",
        "x-http-method": "DELETE",
        "x-method-override": "DELETE",
      },
      body: "{}",
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.doesNotMatch(seenText(mock.requests[0]), /DELETE/);
  } finally {
    await gw.close();
    await mock.close();
  }
});

/** A loopback provider answering every call with one JSON body, recording what it got. */
async function jsonProvider(answer: (path: string) => unknown) {
  const paths: string[] = [];
  const server = await serveLoopback(async (request) => {
    const url = new URL(request.url);
    paths.push(`${request.method} ${url.pathname}`);
    await request.body?.cancel();
    return Response.json(answer(url.pathname));
  });
  return { ...server, paths };
}

Deno.test("openai SDK: stateful Responses calls and Conversations pass the preset", async () => {
  const provider = await jsonProvider(() => ({
    object: "list",
    data: [],
    has_more: false,
    id: "conv_1",
    deleted: true,
    input_tokens: 5,
  }));
  const gw = await startGateway(
    `
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${provider.url}
`,
    { OPENAI_API_KEY: "sk-server-SECRET" },
  );
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: "unused" });
    const count = await client.responses.inputTokens.count({ model: "gpt-5", input: "Hi" });
    assert.equal(count.input_tokens, 5);
    for await (const _ of client.responses.inputItems.list("resp_1")) break;
    await client.responses.delete("resp_1");
    const conversation = await client.conversations.create({});
    assert.equal(conversation.id, "conv_1");
    await client.conversations.items.create("conv_1", { items: [] });
    for await (const _ of client.conversations.items.list("conv_1")) break;
    await client.conversations.delete("conv_1");
    assert.deepEqual(provider.paths, [
      "POST /v1/responses/input_tokens",
      "GET /v1/responses/resp_1/input_items",
      "DELETE /v1/responses/resp_1",
      "POST /v1/conversations",
      "POST /v1/conversations/conv_1/items",
      "GET /v1/conversations/conv_1/items",
      "DELETE /v1/conversations/conv_1",
    ]);
  } finally {
    await gw.close();
    await provider.close();
  }
});

Deno.test("@google/genai: an Interaction passes the preset and its usage is charged", async () => {
  const provider = await jsonProvider(() => ({
    id: "v1_interaction",
    object: "interaction",
    status: "completed",
    model: "gemini-2.5-flash",
    created: "2026-11-30T00:00:00Z",
    updated: "2026-11-30T00:00:01Z",
    outputs: [{ type: "text", text: "Hello" }],
    usage: { total_input_tokens: 11, total_output_tokens: 22, total_tokens: 33 },
  }));
  const gw = await startGateway(
    `
clients:
  - { id: alice, token: alice-keyward-TOKEN }
routes:
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${provider.url}
    auth: token
    limits: { tokens: 1000/day }
`,
    { GEMINI_API_KEY: "AIza-server-SECRET" },
  );
  try {
    const ai = new GoogleGenAI({
      apiKey: "alice-keyward-TOKEN",
      httpOptions: { baseUrl: `${gw.url}/gemini`, apiVersion: "v1beta" },
    });
    const interaction = await ai.interactions.create({ model: "gemini-2.5-flash", input: "Hi" });
    assert.equal(interaction.id, "v1_interaction");
    assert.deepEqual(provider.paths, ["POST /v1beta/interactions"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(gw.logs.at(-1)?.tokens, { input: 11, output: 22, total: 33 });
  } finally {
    await gw.close();
    await provider.close();
  }
});

Deno.test("fal: with rest.fal.ai listed for uploads, a client still cannot mint a fal token", async () => {
  const mock = await startMockUpstream();
  const toMock: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return fetch(new URL(url.pathname + url.search, mock.url), init);
  };
  const gateway = await createGateway(
    `
routes:
  - name: fal
    path: /api/fal/proxy
    preset: fal
    key: { env: KW_BILLING_FAL_KEY }
    target: { hosts: [fal.run, queue.fal.run, rest.fal.ai] }
`,
    undefined,
    { upstreamFetch: toMock, log: () => {} },
  );
  const gw = await serveLoopback(gateway.fetch);
  const call = (target: string) =>
    fetch(`${gw.url}/api/fal/proxy`, {
      method: "POST",
      headers: { "x-fal-target-url": target, "content-type": "application/json" },
      body: JSON.stringify({ allowed_apps: ["fal-ai/flux"], token_expiration: 3600 }),
    });
  try {
    // A token minted with the server's key would call fal directly, past every limit.
    for (const target of ["https://rest.fal.ai/tokens/", "https://rest.fal.ai/tokens"]) {
      const refused = await call(target);
      assert.equal(refused.status, 403, target);
      await refused.body?.cancel();
    }
    assert.equal(mock.requests.length, 0);
    const upload = await call(
      "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3",
    );
    assert.equal(upload.status, 200);
    await upload.body?.cancel();
    assert.equal(mock.requests[0].url, "/storage/upload/initiate?storage_type=fal-cdn-v3");
  } finally {
    await gw.close();
    await mock.close();
  }
});
