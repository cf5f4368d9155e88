import assert from "node:assert/strict";
import { derivePermissions } from "./permissions.ts";

Deno.test("permissions name exactly the hosts, variables and files the config uses", () => {
  const flags = derivePermissions(
    "conf/routes.yaml",
    `
server:
  hostname: \${KEYWARD_HOSTNAME:-127.0.0.1}
routes:
  - name: openai
    path: /openai
    preset: openai
  - name: local
    path: /local
    upstream: http://127.0.0.1:9000
    key: { pool: [{ env: LOCAL_A }, { file: /run/secrets/local_b }] }
    allow: ["GET /**"]
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
`,
    () => undefined,
  );
  assert.deepEqual(flags, [
    "--allow-net=api.openai.com,127.0.0.1:9000,inference.sh,*.inference.sh,127.0.0.1",
    "--allow-env=INFERENCE_API_KEY,KEYWARD_HOSTNAME,LOCAL_A,OPENAI_API_KEY,PORT",
    "--ignore-env=LOG_TOKENS,LOG_STREAM",
    "--allow-read=conf/routes.yaml,/run/secrets/local_b",
    "--unstable-net",
    "--unstable-no-legacy-abort",
  ]);
});

Deno.test("stores and auth endpoints add exactly their hosts, files and flags", () => {
  const flags = derivePermissions(
    "routes.yaml",
    `
server:
  hostname: 127.0.0.1
  auth: { jwt: { jwks: "https://issuer.example/.well-known/jwks.json" } }
store: { kind: redis, url: "redis://cache.internal:6379" }
routes:
  - name: openai
    path: /openai
    preset: openai
  - name: app
    path: /app
    preset: anthropic
    auth: { forward: { url: "http://127.0.0.1:3000/api/session" } }
`,
    () => undefined,
  );
  assert.deepEqual(flags, [
    "--allow-net=api.openai.com,issuer.example,api.anthropic.com,127.0.0.1:3000,cache.internal:6379,127.0.0.1",
    "--allow-env=ANTHROPIC_API_KEY,OPENAI_API_KEY,PORT",
    "--ignore-env=LOG_TOKENS,LOG_STREAM,DEBUG",
    "--allow-read=routes.yaml",
    "--unstable-net",
    "--unstable-no-legacy-abort",
  ]);
  const kv = derivePermissions(
    "routes.yaml",
    "store: { kind: kv, path: /var/lib/keyward/limits.kv }\nroutes:\n  - { name: o, path: /o, preset: openai }\n",
    () => undefined,
  );
  assert.deepEqual(kv.slice(3), [
    "--allow-read=routes.yaml,/var/lib/keyward/limits.kv",
    "--allow-write=/var/lib/keyward/limits.kv",
    "--unstable-kv",
    "--unstable-net",
    "--unstable-no-legacy-abort",
  ]);
});

Deno.test("a variable named only in a comment is not granted", () => {
  const flags = derivePermissions(
    "routes.yaml",
    '# clients: [{ id: a, token: "${COMMENTED_TOKEN}" }]\nroutes:\n  - { name: o, path: /o, preset: openai } # ${ALSO_COMMENTED}\n',
    () => undefined,
  );
  assert.equal(flags[1], "--allow-env=OPENAI_API_KEY,PORT");
});

Deno.test("a Redis Cluster store adds the host of each node listed", () => {
  const flags = derivePermissions(
    "routes.yaml",
    `
store: { kind: redis, cluster: ["redis://node-a:7000", "redis://node-b:7001"] }
routes:
  - name: openai
    path: /openai
    preset: openai
`,
    () => undefined,
  );
  assert.equal(flags[0], "--allow-net=api.openai.com,node-a:7000,node-b:7001,0.0.0.0");
});
