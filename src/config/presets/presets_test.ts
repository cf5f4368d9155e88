import assert from "node:assert/strict";
import { compileRoute } from "../../route.ts";
import { compileAllow } from "../../rules/allow_list.ts";
import { loadConfigText } from "../load.ts";
import { PRESETS } from "./mod.ts";

const allowed = (name: keyof typeof PRESETS) => compileAllow(PRESETS[name].allow);

Deno.test("openai preset: inference yes, files, fine-tuning, organization and keys no", () => {
  const ok = allowed("openai");
  assert.equal(ok("POST", "/v1/chat/completions"), true);
  assert.equal(ok("POST", "/v1/responses"), true);
  assert.equal(ok("POST", "/v1/embeddings"), true);
  assert.equal(ok("GET", "/v1/models/gpt-4o"), true);
  for (
    const [method, path] of [
      ["GET", "/v1/files"],
      ["POST", "/v1/files"],
      ["POST", "/v1/fine_tuning/jobs"],
      ["GET", "/v1/organization/costs"],
      ["POST", "/v1/organization/admin_api_keys"],
      ["GET", "/v1/organization/projects/p/api_keys"],
      ["POST", "/v1/batches"],
      ["POST", "/v1/uploads"],
      ["DELETE", "/v1/models/ft-x"],
      ["GET", "/v1/dashboard/billing/usage"],
    ]
  ) assert.equal(ok(method, path), false, `${method} ${path}`);
});

Deno.test("anthropic preset: messages yes, batches, files and admin no", () => {
  const ok = allowed("anthropic");
  assert.equal(ok("POST", "/v1/messages"), true);
  assert.equal(ok("POST", "/v1/messages/count_tokens"), true);
  assert.equal(ok("POST", "/v1/messages/batches"), false);
  assert.equal(ok("GET", "/v1/files"), false);
  assert.equal(ok("GET", "/v1/organizations/api_keys"), false);
});

Deno.test("gemini preset: generate and stream yes, files and tuned models no", () => {
  const ok = allowed("gemini");
  assert.equal(ok("POST", "/v1beta/models/gemini-2.0-flash:generateContent"), true);
  assert.equal(ok("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent"), true);
  assert.equal(ok("POST", "/v1beta/files"), false);
  assert.equal(ok("POST", "/v1beta/tunedModels"), false);
  assert.equal(ok("DELETE", "/v1beta/models/x"), false);
  assert.equal(PRESETS.gemini.key.header, "x-goog-api-key");
});

Deno.test("inference.sh preset: runs and tasks yes, keys, secrets and teams no", () => {
  const ok = allowed("inference.sh");
  const id = "01j9z3m8k2c9v7b4n6q5r0t1wx";
  assert.equal(ok("POST", "/apps/run"), true);
  assert.equal(ok("GET", `/tasks/${id}/stream`), true);
  assert.equal(ok("POST", "/chats"), true);
  assert.equal(ok("POST", `/chats/messages/${id}/cancel`), true);
  assert.equal(ok("GET", "/agents/acme/helper@v1"), true);
  for (
    const [method, path] of [
      ["GET", "/apikeys"],
      ["DELETE", "/apikeys/1"],
      ["GET", "/secrets"],
      ["GET", "/teams"],
      ["GET", "/me"],
      ["DELETE", "/apps/x"],
      ["GET", "/tasks/abc/stream"],
      ["GET", "/tasks/stream"],
      ["GET", "/chats/list"],
      ["GET", "/files/list"],
      ["GET", `/files/${id}`],
      ["GET", `/agents/${id}/card`],
      ["GET", "/agents/acme/versions"],
      ["PUT", `/tasks/${id}`],
    ]
  ) assert.equal(ok(method, path), false, `${method} ${path}`);
  assert.equal(PRESETS["inference.sh"].target?.header, "x-inf-target-url");
  assert.equal(PRESETS["inference.sh"].target?.query, "__inf_target");
  assert.equal(PRESETS.fal.target?.header, "x-fal-target-url");
  assert.equal(PRESETS.fal.key.format, "Key {key}");
});

Deno.test("every preset drops the client's credentials and account selectors, compiled once", () => {
  const expected: Record<keyof typeof PRESETS, { headers: string[]; query: string[] }> = {
    openai: {
      headers: ["authorization", "api-key", "openai-organization", "openai-project"],
      query: [],
    },
    anthropic: {
      headers: [
        "x-api-key",
        "authorization",
        "anthropic-workspace-id",
        "anthropic-user-profile-id",
      ],
      query: [],
    },
    gemini: {
      headers: ["x-goog-api-key", "authorization", "x-goog-user-project", "x-goog-quota-user"],
      query: ["key", "$key", "access_token", "userproject", "$userproject", "quotauser"],
    },
    "inference.sh": { headers: ["authorization", "x-api-key"], query: ["access_token"] },
    fal: { headers: ["authorization"], query: ["fal_jwt_token"] },
  };
  for (const [name, want] of Object.entries(expected)) {
    const route = compileRoute({ name: "r", path: "/r", preset: name as keyof typeof PRESETS });
    for (const header of want.headers) {
      assert.ok(route.dropHeaders.has(header), `${name} ${header}`);
    }
    for (const query of want.query) assert.ok(route.dropQuery?.has(query), `${name} ?${query}`);
    // Wherever the route reads a client's token, that header or parameter is never forwarded.
    for (const source of PRESETS[name as keyof typeof PRESETS].clientToken ?? []) {
      if ("header" in source) {
        assert.ok(route.dropHeaders.has(source.header), `${name} token ${source.header}`);
      } else if ("query" in source) {
        assert.ok(route.dropQuery?.has(source.query), `${name} token ?${source.query}`);
      }
    }
  }
  const openaiRoute = compileRoute({ name: "o", path: "/o", preset: "openai" });
  assert.equal(openaiRoute.dropQuery, undefined, "no query work on routes without any to drop");
});

Deno.test("auth: token reads the client's token where each preset's SDK sends its key", () => {
  const read = (name: keyof typeof PRESETS, headers: Record<string, string>) =>
    compileRoute({ name: "r", path: "/r", preset: name }).readToken(new Headers(headers));
  assert.equal(read("gemini", { "x-goog-api-key": "tok" }), "tok");
  assert.equal(read("gemini", { authorization: "Bearer tok" }), "tok");
  assert.equal(read("fal", { authorization: "Key tok" }), "tok");
  assert.equal(read("fal", { authorization: "key  tok " }), "tok");
  assert.equal(read("anthropic", { "x-api-key": "tok" }), "tok");
  assert.equal(read("openai", { authorization: "Bearer tok" }), "tok");
  assert.equal(read("openai", { "x-goog-api-key": "tok" }), undefined);
  assert.equal(read("openai", { authorization: "Key tok" }), undefined);
});

Deno.test("a route's target overrides its preset's field by field", () => {
  const route = compileRoute({
    name: "inference",
    path: "/api/inference/proxy",
    preset: "inference.sh",
    target: { hosts: ["api.example.com"] },
  });
  assert.deepEqual(route.targetConfig, {
    header: "x-inf-target-url",
    query: "__inf_target",
    hosts: ["api.example.com"],
  });
  assert.ok(route.dropQuery?.has("__inf_target"));
  const header = compileRoute({
    name: "fal",
    path: "/fal",
    preset: "fal",
    target: { header: "x-my-target" },
  });
  assert.deepEqual(header.targetConfig, {
    header: "x-my-target",
    hosts: PRESETS.fal.target!.hosts,
  });
  assert.ok(header.dropHeaders.has("x-my-target"));
});

Deno.test("a target is checked merged: hosts and a header or query from the route or its preset", () => {
  const load = (route: string) => () =>
    loadConfigText(`routes:\n  - { name: r, path: /r, ${route} }\n`, "routes.yaml", () => "k");
  load("preset: inference.sh, target: { hosts: [a.example] }")();
  load("preset: fal, target: { query: t }")();
  assert.throws(
    load("target: { hosts: [a.example] }, allow: [GET /x]"),
    /Set header, query or both/,
  );
  assert.throws(load("target: { header: x-t }, allow: [GET /x]"), /Set hosts/);
  assert.throws(load("preset: openai, target: { header: x-t }"), /Set hosts/);
});

Deno.test("openai preset: what stateful Responses apps call is allowed, listings stay out", () => {
  const ok = allowed("openai");
  for (
    const [method, path] of [
      ["POST", "/v1/responses/input_tokens"],
      ["POST", "/v1/responses/compact"],
      ["GET", "/v1/responses/resp_1/input_items"],
      ["DELETE", "/v1/responses/resp_1"],
      ["POST", "/v1/conversations"],
      ["GET", "/v1/conversations/conv_1"],
      ["POST", "/v1/conversations/conv_1"],
      ["DELETE", "/v1/conversations/conv_1"],
      ["GET", "/v1/conversations/conv_1/items"],
      ["POST", "/v1/conversations/conv_1/items"],
      ["GET", "/v1/conversations/conv_1/items/msg_1"],
      ["DELETE", "/v1/conversations/conv_1/items/msg_1"],
    ]
  ) assert.equal(ok(method, path), true, `${method} ${path}`);
  for (
    const [method, path] of [
      ["GET", "/v1/conversations"],
      ["GET", "/v1/responses"],
      ["GET", "/v1/chat/completions"],
      ["GET", "/v1/chat/completions/chatcmpl_1"],
      ["POST", "/v1/conversations/conv_1/items/msg_1"],
    ]
  ) assert.equal(ok(method, path), false, `${method} ${path}`);
});

Deno.test("gemini preset: Interactions create, get, cancel and delete; no listing or webhooks", () => {
  const ok = allowed("gemini");
  for (const version of ["v1beta", "v1"]) {
    assert.equal(ok("POST", `/${version}/interactions`), true);
    assert.equal(ok("GET", `/${version}/interactions/v1_abc`), true);
    assert.equal(ok("POST", `/${version}/interactions/v1_abc/cancel`), true);
    assert.equal(ok("DELETE", `/${version}/interactions/v1_abc`), true);
    assert.equal(ok("GET", `/${version}/interactions`), false);
    assert.equal(ok("POST", `/${version}/webhooks`), false);
  }
});

Deno.test("fal preset: model runs, queue and uploads yes; minting tokens or keys no", () => {
  const ok = allowed("fal");
  for (
    const [method, path] of [
      ["POST", "/fal-ai/flux/dev"],
      ["POST", "/fal-ai/fast-sdxl"],
      ["POST", "/fal-ai/flux/dev/stream"],
      ["GET", "/fal-ai/flux/requests/r1/status"],
      ["GET", "/fal-ai/flux/requests/r1"],
      ["PUT", "/fal-ai/flux/requests/r1/cancel"],
      ["POST", "/storage/upload/initiate"],
      ["POST", "/storage/upload/initiate-multipart"],
    ]
  ) assert.equal(ok(method, path), true, `${method} ${path}`);
  for (
    const [method, path] of [
      ["POST", "/tokens/"],
      ["POST", "/tokens"],
      ["GET", "/keys"],
      ["POST", "/keys/"],
      ["DELETE", "/fal-ai/flux/requests/r1"],
    ]
  ) assert.equal(ok(method, path), false, `${method} ${path}`);
});
