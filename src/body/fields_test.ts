import assert from "node:assert/strict";
import { inferenceSh } from "../config/presets/inference_sh.ts";
import { parseAppGlob } from "../config/app_glob.ts";
import { refName } from "./app_ref.ts";
import { applyBodyRules } from "./apply.ts";
import { compileFieldPolicy, withFieldPolicy } from "./fields.ts";
import { SPLICE_ROOM } from "./splice.ts";

const CHAT = "01j9z3m8k2c9v7b4n6q5r0c4at";
const open = compileFieldPolicy(inferenceSh.fields!);
const acme = compileFieldPolicy(inferenceSh.fields!, { apps: ["acme/*", "ana/helper"] });

/** Checks a body given as JSON text as the body rule does: scanned, then the policy's check. */
function verdict(policy: typeof open, path: string, text: string) {
  const rules = withFieldPolicy(policy, undefined)!;
  const result = applyBodyRules(new TextEncoder().encode(text), rules, path, SPLICE_ROOM);
  return "body" in result ? undefined : result;
}
const body = (value: unknown) => JSON.stringify(value);

Deno.test("fields: the SDK's own bodies pass", () => {
  for (
    const [path, value] of [
      ["/apps/run", { app: "acme/chat@v2", function: "run", input: { prompt: "x" }, stream: true }],
      ["/apps/run", { app: "ana/helper", input: {}, wait: false }],
      ["/agents/run", { chat_id: null, agent: "acme/bot", input: { text: "hi", role: "user" } }],
      ["/chats", { agent: "acme/bot", context: { plan: "free" } }],
      [`/chats/${CHAT}/messages`, { message: "hi" }],
      [`/chats/${CHAT}/agent`, { agent: "acme/other" }],
      [`/tools/${CHAT}`, { result: "ok" }],
      ["/files", { files: [{ uri: "", filename: "a.png", content_type: "image/png", size: 3 }] }],
      [`/tasks/${CHAT}/cancel`, {}],
    ] as const
  ) {
    assert.equal(verdict(open, path, body(value)), undefined, path);
    assert.equal(verdict(acme, path, body(value)), undefined, path);
  }
});

Deno.test("fields: a field the endpoint does not take is refused, however it is spelt", () => {
  for (
    const key of [
      "webhook",
      "session",
      "session_timeout",
      "workers",
      "infra",
      "setup",
      "metadata",
      "run_at",
      "WEBHOOK",
      "Webhook",
      "ſession",
      "wor\u212Aers",
      "Run_At",
    ]
  ) {
    const refusal = verdict(open, "/apps/run", body({ app: "acme/x", input: {}, [key]: 1 }));
    assert.deepEqual(refusal, {
      type: "forbidden",
      message: `"${key}" cannot be set through this route`,
    });
  }
  assert.equal(
    verdict(open, "/agents/run", body({ agent: "a/b", agent_config: {}, input: {} }))?.type,
    "forbidden",
    "an ad-hoc agent is never taken",
  );
  assert.equal(
    verdict(open, "/v1/other", body({}))?.message,
    "/v1/other takes no request body on this route",
  );
});

Deno.test("fields: repeated keys and keys naming the same field are refused", () => {
  assert.deepEqual(verdict(open, "/apps/run", '{"app":"acme/x","input":{},"app":"eve/y"}'), {
    type: "invalid_request",
    message: 'The request body repeats the key "app"',
  });
  assert.deepEqual(verdict(open, "/apps/run", body({ app: "acme/x", App: "eve/y", input: {} })), {
    type: "invalid_request",
    message: 'The keys "app" and "App" name the same field',
  });
  assert.equal(
    verdict(open, "/chats", '{"agent":"acme/x","\\u0061gent":"eve/y"}')?.type,
    "invalid_request",
  );
});

Deno.test("fields: apps narrows the app or agent a request names", () => {
  const refused = (path: string, value: unknown) => verdict(acme, path, body(value))?.message;
  assert.equal(
    refused("/apps/run", { app: "eve/x", input: {} }),
    'App "eve/x" is not allowed on this route',
  );
  assert.match(refused("/apps/run", { app: "ana/helperx", input: {} })!, /not allowed/);
  assert.match(refused("/apps/run", { app: "acme/a/b", input: {} })!, /not allowed/);
  assert.match(
    refused("/apps/run", { app: "01j9z3m8k2c9v7b4n6q5r0t1wx", input: {} })!,
    /not allowed/,
  );
  assert.equal(refused("/apps/run", { input: {} }), '"app" is required on this route');
  assert.match(
    refused("/apps/run", { app: "acme/x", app_id: "01j9", input: {} })!,
    /"app_id" cannot be used/,
  );
  assert.match(
    refused("/apps/run", { app: "acme/x", VERſION_ID: "v", input: {} })!,
    /"version_id" cannot be used/,
  );
  assert.equal(refused("/apps/run", { app: "app/acme/x:generate", input: {} }), undefined);
  assert.match(
    refused("/agents/run", { agent: "eve/x", chat_id: CHAT, input: {} })!,
    /not allowed/,
  );
  assert.match(refused("/chats", { AGENT: "eve/x" })!, /not allowed/);
  assert.match(refused(`/chats/${CHAT}/agent`, { agent: "eve/x" })!, /not allowed/);
  assert.equal(verdict(open, "/apps/run", body({ app_id: "01j9", input: {} })), undefined);
});

Deno.test("fields: an upload declares one file, no path or uri, within max_upload", () => {
  const small = compileFieldPolicy(inferenceSh.fields!, { max_upload: 2048 });
  const file = (extra: Record<string, unknown> = {}) => ({
    uri: "",
    filename: "a.png",
    content_type: "image/png",
    size: 1024,
    ...extra,
  });
  const check = (value: unknown, policy = small) => verdict(policy, "/files", body(value));
  assert.equal(check({ files: [file({ size: 2048 })] }), undefined);
  assert.equal(check({ files: [file({ size: 100 * 1024 * 1024 })] }, open), undefined);
  for (
    const [value, type, policy = small] of [
      [{ files: [file({ size: 2049 })] }, "payload_too_large"],
      [{ files: [file({ size: 100 * 1024 * 1024 + 1 })] }, "payload_too_large", open],
      [{ files: [file({ SIZE: 1e9, size: undefined })] }, "payload_too_large"],
      [{ files: [file(), file()] }, "forbidden"],
      [{ files: [] }, "forbidden"],
      [{ files: [file()], category: "artifacts" }, "forbidden"],
      [{ files: [file({ path: "/avatars/site-logo.png" })] }, "forbidden"],
      [{ files: [file({ uri: "inf://someone-elses-file" })] }, "forbidden"],
      [{ files: [file({ store: "x" })] }, "forbidden"],
      [{ files: [file({ size: undefined })] }, "invalid_request"],
      [{ files: [file({ size: 1.5 })] }, "invalid_request"],
      [{ files: [file({ size: "1024" })] }, "invalid_request"],
      [{ files: [file({ size: 0 })] }, "invalid_request"],
      [{ files: [file({ Size: 1 })] }, "invalid_request"],
      [{ files: ["a.png"] }, "invalid_request"],
    ] as [unknown, string, typeof open?][]
  ) {
    assert.equal(check(value, policy)?.type, type, JSON.stringify(value));
  }
});

Deno.test("refName and parseAppGlob read refs as the API does", () => {
  assert.equal(refName("ana/helper"), "ana/helper");
  assert.equal(refName("ana/helper@abc123:generate"), "ana/helper");
  assert.equal(refName("ana/helper:generate"), "ana/helper");
  assert.equal(refName("agent/ana/helper@v1"), "ana/helper");
  assert.equal(refName("01j9z3m8k2c9v7b4n6q5r0t1wx"), undefined);
  assert.equal(refName("ana/"), undefined);
  assert.equal(refName("a/b/c"), undefined);
  assert.ok(parseAppGlob("acme/*").test("acme/chat"));
  assert.ok(!parseAppGlob("acme/*").test("acme2/chat"));
  assert.ok(parseAppGlob("*/chat").test("x/chat"));
  for (const bad of ["*", "acme", "acme/x@v1", "app/acme/x", "", "acme/x/y"]) {
    assert.throws(() => parseAppGlob(bad), /Cannot parse app/, bad);
  }
});
