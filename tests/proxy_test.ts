import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";

const KEY = "sk-test-SECRET-0123456789";

async function setup(
  extra: string | ((upstream: string) => string) = "",
): Promise<{ mock: MockUpstream; gw: TestGateway } & AsyncDisposable> {
  const mock = await startMockUpstream();
  if (typeof extra === "function") extra = extra(mock.url);
  const gw = await startGateway(
    `
routes:
  - name: openai
    path: /openai
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow:
      - POST /v1/chat/completions
      - GET /v1/models/*
      - GET /v1/redirect
      - GET /v1/echo-key
      - GET /v1/status/*
      - GET /v1/slow
    limits: { timeout: 500ms }
  - name: gemini
    path: /gemini
    upstream: ${mock.url}/base
    key: { env: GEMINI_KEY, query: key }
    allow: ["GET /v1/**"]
  - name: nokey
    path: /nokey
    upstream: ${mock.url}
    key: { env: NOT_SET }
    allow: ["GET /**"]
  - name: dead
    path: /dead
    upstream: http://127.0.0.1:1
    allow: ["GET /**"]
${extra}`,
    { OPENAI_API_KEY: KEY, GEMINI_KEY: "gem-SECRET-key" },
  );
  return {
    mock,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await mock.close();
    },
  };
}

Deno.test("the key is injected and the client's credentials, cookies and trace headers stay behind", async () => {
  await using ctx = await setup();
  const response = await fetch(`${ctx.gw.url}/openai/v1/chat/completions?x=1`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: "Bearer client-token",
      "x-api-key": "client-key",
      cookie: "session=abc",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "a=b",
      baggage: "user=alice",
      "x-forwarded-for": "10.0.0.1",
      connection: "keep-alive, x-drop-me",
      "x-drop-me": "1",
      "x-custom": "kept",
    },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [] }),
  });
  assert.equal(response.status, 200);
  const json = await response.json();
  assert.equal(json.choices[0].message.content, "Hello from the mock.");
  assert.equal(response.headers.get("set-cookie"), null, "upstream cookies are not passed on");
  assert.equal(response.headers.get("x-upstream"), "mock");
  assert.ok(response.headers.get("x-request-id"));

  assert.equal(ctx.mock.requests.length, 1);
  const seen = ctx.mock.requests[0];
  assert.equal(seen.url, "/v1/chat/completions?x=1");
  assert.equal(seen.headers.authorization, `Bearer ${KEY}`);
  for (
    const name of ["x-api-key", "cookie", "tracestate", "baggage", "x-forwarded-for", "x-drop-me"]
  ) {
    assert.equal(seen.headers[name], undefined, `${name} must not reach the upstream`);
  }
  assert.notEqual(
    seen.headers.traceparent,
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  );
  assert.equal(seen.headers["x-custom"], "kept");
  assert.equal(seen.headers.host, ctx.mock.host);
  assert.deepEqual(JSON.parse(seen.body), { model: "gpt-4o-mini", messages: [] });
});

Deno.test("a key sent in another header: the client's Authorization and x-api-key never reach the upstream", async () => {
  await using ctx = await setup((upstream) =>
    `  - name: goog
    path: /goog
    upstream: ${upstream}
    key: { env: OPENAI_API_KEY, header: x-goog-api-key, format: "{key}" }
    allow: ["POST /v1/**"]
  - name: anthropic
    path: /anthropic
    preset: anthropic
    upstream: ${upstream}
    key: { env: OPENAI_API_KEY }
  - name: tokens
    path: /tokens
    upstream: ${upstream}
    key: { env: OPENAI_API_KEY, header: x-api-key, format: "{key}" }
    allow: ["POST /v1/**"]
    auth: token
clients:
  - { id: alice, token: alice-client-TOKEN }
`
  );
  const client = {
    "content-type": "application/json",
    authorization: "Bearer client-OWN-token",
    cookie: "session=client-SESSION",
  };
  const calls: [string, Record<string, string>, string][] = [
    // A route of its own whose key travels in x-goog-api-key, as Gemini's does.
    ["/goog/v1/chat/completions", { ...client, "x-goog-api-key": "client-GOOG" }, "x-goog-api-key"],
    // The anthropic preset puts the key in x-api-key.
    ["/anthropic/v1/messages", { ...client, "x-api-key": "client-ANT" }, "x-api-key"],
    // The client's keyward token, as Bearer, on a route whose key goes in x-api-key.
    ["/tokens/v1/chat/completions", {
      "content-type": "application/json",
      authorization: "Bearer alice-client-TOKEN",
    }, "x-api-key"],
  ];
  for (const [path, headers] of calls) {
    const response = await fetch(ctx.gw.url + path, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "m", max_tokens: 10, messages: [] }),
    });
    assert.equal(response.status, 200, `${path}: ${await response.text()}`);
  }
  assert.equal(ctx.mock.requests.length, calls.length);
  calls.forEach(([path, _, keyHeader], i) => {
    const seen = ctx.mock.requests[i].headers;
    assert.equal(seen[keyHeader], KEY, `${path}: the key in ${keyHeader}`);
    assert.equal(
      seen.authorization,
      undefined,
      `${path}: the client's authorization was forwarded`,
    );
    if (keyHeader !== "x-api-key") assert.equal(seen["x-api-key"], undefined, path);
    assert.equal(seen.cookie, undefined, path);
    for (const [name, value] of Object.entries(seen)) {
      assert.doesNotMatch(
        value,
        /client|TOKEN/,
        `${path}: ${name} carries the client's credential`,
      );
    }
  });
  assert.equal(ctx.gw.logs.find((l) => l.route === "tokens")?.client, "alice");
});

Deno.test("a query-injected key replaces the client's and joins the upstream base path", async () => {
  await using ctx = await setup();
  const response = await fetch(`${ctx.gw.url}/gemini/v1/models?key=client-guess&alt=sse`);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const seen = ctx.mock.requests[0];
  assert.equal(seen.path, "/base/v1/models");
  const query = new URLSearchParams(seen.url.split("?")[1]);
  assert.equal(query.get("key"), "gem-SECRET-key");
  assert.deepEqual(query.getAll("key").length, 1);
  assert.equal(query.get("alt"), "sse");
});

Deno.test("paths outside the allow list get 403 and never reach the upstream", async () => {
  await using ctx = await setup();
  const denied: [string, string][] = [
    ["GET", "/openai/v1/files"],
    ["DELETE", "/openai/v1/models/gpt-4o"],
    ["GET", "/openai/v1/models"],
    ["GET", "/openai/v1/models/a/b"],
    ["POST", "/openai/v1/organization/api_keys"],
    ["GET", "/openai/v1/chat/completions"],
    ["GET", "/openai"],
  ];
  for (const [method, path] of denied) {
    const response = await fetch(ctx.gw.url + path, { method });
    assert.equal(response.status, 403, `${method} ${path}`);
    const json = await response.json();
    assert.equal(json.error.type, "forbidden");
  }
  assert.equal(ctx.mock.requests.length, 0);
});

Deno.test("redirects are passed back, not followed", async () => {
  await using ctx = await setup();
  const response = await fetch(`${ctx.gw.url}/openai/v1/redirect`, { redirect: "manual" });
  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), "https://example.com/x");
  await response.body?.cancel();
  assert.equal(ctx.mock.requests.length, 1);
});

Deno.test("upstream errors pass through unchanged, but an echoed key is redacted", async () => {
  await using ctx = await setup();
  const teapot = await fetch(`${ctx.gw.url}/openai/v1/status/418`);
  assert.equal(teapot.status, 418);
  assert.deepEqual(await teapot.json(), { error: { message: "upstream says no" } });
  const echoed = await fetch(`${ctx.gw.url}/openai/v1/echo-key`);
  assert.equal(echoed.status, 401);
  const text = await echoed.text();
  assert.equal(text.includes(KEY), false);
  assert.match(text, /\[redacted\]/);
});

Deno.test("gateway errors are JSON with the right status", async () => {
  await using ctx = await setup();
  const cases: [string, number, string][] = [
    ["/nowhere", 404, "not_found"],
    ["/nokey/x", 503, "key_unavailable"],
    ["/dead/x", 502, "bad_gateway"],
    ["/openai/v1/slow", 504, "gateway_timeout"],
  ];
  for (const [path, status, type] of cases) {
    const response = await fetch(ctx.gw.url + path);
    assert.equal(response.status, status, path);
    assert.equal(response.headers.get("content-type"), "application/json");
    const json = await response.json();
    assert.equal(json.error.type, type, path);
    assert.equal(typeof json.error.message, "string");
  }
});

Deno.test("/healthz answers ok", async () => {
  await using ctx = await setup();
  const response = await fetch(`${ctx.gw.url}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
});

Deno.test("one log line per request with the spec's fields and no secret anywhere", async () => {
  await using ctx = await setup();
  await (await fetch(`${ctx.gw.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer client-token", cookie: "session=abc" },
    body: JSON.stringify({ model: "gpt-4o-mini" }),
  })).text();
  await (await fetch(`${ctx.gw.url}/openai/v1/echo-key`)).text();
  await (await fetch(`${ctx.gw.url}/gemini/v1/models?key=client-guess`)).text();
  await (await fetch(`${ctx.gw.url}/openai/v1/files`)).text();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(ctx.gw.logs.length, 4);
  const [chat] = ctx.gw.logs;
  for (
    const field of [
      "time",
      "id",
      "route",
      "method",
      "path",
      "status",
      "duration_ms",
      "ttfb_ms",
      "bytes_out",
    ]
  ) {
    assert.ok(field in chat, `log has ${field}`);
  }
  assert.equal(chat.route, "openai");
  assert.equal(chat.status, 200);
  assert.deepEqual(chat.tokens, undefined, "a route without a usage format reports no tokens");
  const all = JSON.stringify(ctx.gw.logs);
  for (const secret of [KEY, "gem-SECRET-key", "client-token", "session=abc", "client-guess"]) {
    assert.equal(all.includes(secret), false, `${secret} must not be logged`);
  }
});
