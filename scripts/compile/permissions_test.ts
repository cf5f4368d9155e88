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
  ]);
});
