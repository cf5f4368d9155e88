import assert from "node:assert/strict";
import { ConfigError, loadConfigText } from "./load.ts";
import { configJsonSchema } from "./schema.ts";

const ROUTE = `routes:
  - name: openai
    path: /openai
    upstream: https://api.openai.com
    allow: ["POST /v1/chat/completions"]
`;

function load(store: string) {
  return loadConfigText(`store: ${store}\n${ROUTE}`, "routes.yaml", () => undefined).config;
}

function issuesOf(store: string): string[] {
  try {
    load(store);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
  }
  throw new Error("expected the config to be refused");
}

Deno.test("store: redis takes one server's url or a cluster's nodes, exactly one of them", () => {
  assert.deepEqual(load(`{ kind: redis, url: "redis://cache:6379" }`).store, {
    kind: "redis",
    url: "redis://cache:6379",
  });
  assert.deepEqual(
    load(`{ kind: redis, cluster: ["redis://node-a:7000", "rediss://node-b:7001"] }`).store,
    { kind: "redis", cluster: ["redis://node-a:7000", "rediss://node-b:7001"] },
  );
  const both = `{ kind: redis, url: "redis://a:1", cluster: ["redis://b:2"] }`;
  assert.deepEqual(issuesOf(both), ["1:8 store: Set exactly one of url or cluster"]);
  assert.deepEqual(issuesOf(`{ kind: redis }`), ["1:8 store: Set exactly one of url or cluster"]);
  assert.match(issuesOf(`{ kind: redis, cluster: [] }`)[0], /cluster/i);
  assert.match(issuesOf(`{ kind: redis, cluster: ["http://node:7000"] }`)[0], /redis:\/\//);
});

Deno.test("the JSON Schema says a redis store takes url or cluster", () => {
  const text = JSON.stringify(configJsonSchema());
  assert.match(text, /"cluster":\{[^}]*"type":"array"/);
  assert.match(text, /"oneOf":\[\{"required":\["url"\]\},\{"required":\["cluster"\]\}\]/);
});
