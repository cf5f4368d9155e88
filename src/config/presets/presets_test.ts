import assert from "node:assert/strict";
import { compileAllow } from "../../rules/allow.ts";
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
