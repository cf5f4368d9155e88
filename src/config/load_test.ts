import assert from "node:assert/strict";
import { ConfigError, loadConfigText } from "./load.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

function issuesOf(yaml: string, vars: Record<string, string> = {}): string[] {
  try {
    loadConfigText(yaml, "routes.yaml", env(vars));
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.message}`);
  }
  throw new Error("expected the config to be refused");
}

const ROUTE = `routes:
  - name: openai
    path: /openai
    upstream: https://api.openai.com
    allow: ["POST /v1/chat/completions"]
`;

Deno.test("a valid config loads with units parsed", () => {
  const { config } = loadConfigText(
    ROUTE + "    limits: { timeout: 2m }\n",
    "routes.yaml",
    env({}),
  );
  assert.deepEqual(config.routes[0].limits, { timeout: 120_000 });
});

Deno.test("settings that cannot work together are refused at their line", () => {
  const issues = issuesOf(
    ROUTE + "    auth: token\n    limits: { tokens: 1000/day }\n" +
      "  - name: jwt\n    path: /jwt\n    preset: openai\n" +
      "    auth: { jwt: { jwks: http://issuer.example/jwks.json } }\n",
  );
  const lines = ROUTE.split("\n").length;
  assert.deepEqual(issues.map((i) => i.split(" ")[0]), [
    `routes.yaml:${lines}:11`, // auth: token without clients
    `routes.yaml:${lines + 1}:23`, // tokens without usage reporting
    `routes.yaml:${lines + 5}:26`, // a JWKS over plain http
  ]);
  assert.match(issues[0], /auth: token needs clients/);
  assert.match(issues[1], /token limit needs the upstream's usage/);
  assert.match(issues[2], /JWKS URL must use https/);
});

Deno.test("a cap for bodies the rules read must fit in server.body_memory", () => {
  const rules = "    body: { models: [gpt-4o-mini] }\n";
  const issues = issuesOf(
    "server:\n  body_memory: 16mb\n" + ROUTE + rules + "    limits: { body: 20mb }\n",
  );
  assert.equal(issues.length, 1);
  assert.match(issues[0], /limits\.body: A body the rules read is held whole: 20971520 bytes/);
  const { config } = loadConfigText(
    "server:\n  body_memory: 32mb\n" + ROUTE + rules + "    limits: { body: 20mb }\n",
    "routes.yaml",
    env({}),
  );
  assert.equal(config.server?.body_memory, 32 * 1024 * 1024);
  // A route without rules streams its body: its cap is not held in memory.
  loadConfigText(ROUTE + "    limits: { body: 1gb }\n", "routes.yaml", env({}));
});

Deno.test("a clamp on a preset whose endpoints take no output cap is refused", () => {
  const issues = issuesOf(
    "routes:\n  - name: fal\n    path: /fal\n    preset: fal\n    body: { max_tokens: 50 }\n",
  );
  assert.equal(issues.length, 1);
  assert.match(issues[0], /^routes\.yaml:5:\d+ .*No endpoint of preset fal takes an output cap/);
  loadConfigText(
    "routes:\n  - name: fal\n    path: /fal\n    preset: fal\n" +
      '    body: { max_tokens: 50, generate: ["POST /fal-ai/llm/**"] }\n',
    "routes.yaml",
    env({}),
  );
});

Deno.test("clients need distinct ids and tokens", () => {
  const issues = issuesOf(
    "clients:\n  - { id: a, token: one }\n  - { id: a, token: two }\n  - { id: b, token: one }\n" +
      ROUTE,
  );
  assert.deepEqual(issues.map((i) => i.replace(/^routes\.yaml:\d+:\d+ /, "")), [
    'clients[1].id: Client id "a" is already used by clients[0]',
    "clients[2]: Client b has the same token as clients[0]",
  ]);
});

Deno.test("a typo points at its line and suggests the right key", () => {
  const issues = issuesOf(`routes:
  - name: openai
    path: /openai
    upstrem: https://api.openai.com
    allow: ["POST /v1/chat/completions"]
`);
  assert.ok(
    issues.some((i) =>
      i.startsWith("routes.yaml:4:5 routes[0].upstrem: Unknown key") &&
      i.includes('did you mean "upstream"')
    ),
    issues.join("\n"),
  );
});

Deno.test("${VAR} and ${VAR:-default} interpolate; an unset variable names itself and its line", () => {
  const { config } = loadConfigText(
    "server:\n  port: ${PORT:-9000}\n  hostname: ${HOST}\n" + ROUTE,
    "routes.yaml",
    env({ HOST: "127.0.0.1" }),
  );
  assert.equal(config.server?.port, 9000);
  assert.equal(config.server?.hostname, "127.0.0.1");
  const issues = issuesOf("server:\n  hostname: ${MISSING_HOST}\n" + ROUTE);
  assert.deepEqual(issues, [
    "routes.yaml:2:13 Environment variable MISSING_HOST is not set (use ${MISSING_HOST:-default})",
  ]);
});

Deno.test("broken YAML reports its position", () => {
  const issues = issuesOf("routes:\n  - name: a\n    path: [unclosed\n");
  assert.equal(issues.length >= 1, true);
  assert.match(issues[0], /^routes\.yaml:\d+:\d+ /);
});

Deno.test("every error is reported at once, in file order, with its own line", () => {
  const issues = issuesOf(`routes:
  - name: a
    path: /a
    upstream: http://api.example.com
    allow: ["FETCH /x"]
  - name: a
    path: b
    upstream: https://example.com
    allow: ["GET /**"]
    limits: { requests: 10 per minute }
`);
  assert.deepEqual(issues.map((i) => i.split(" ")[0]), [
    "routes.yaml:4:15",
    "routes.yaml:5:13",
    "routes.yaml:6:11",
    "routes.yaml:7:11",
    "routes.yaml:10:25",
  ]);
  assert.match(issues[0], /Upstream must use https/);
  assert.match(issues[1], /unknown method FETCH/);
  assert.match(issues[2], /already used by routes\[0\]/);
  assert.match(issues[4], /Cannot parse rate/);
});

Deno.test("a route needs an upstream, a target or a preset, and an allow list", () => {
  const issues = issuesOf("routes:\n  - name: a\n    path: /a\n");
  assert.ok(issues.some((i) => i.includes("Set upstream (path mode), target")), issues.join("\n"));
  assert.ok(issues.some((i) => i.includes("Set allow")), issues.join("\n"));
  const { config } = loadConfigText(
    "routes:\n  - { name: a, path: /a, preset: openai }\n",
    "routes.yaml",
    env({}),
  );
  assert.equal(config.routes[0].preset, "openai");
});

Deno.test("target hosts and key settings are checked", () => {
  const issues = issuesOf(`routes:
  - name: t
    path: /t
    target: { header: x-target, hosts: ["https://bad.example"] }
    key: { env: A, file: /b }
    allow: ["GET /**"]
`);
  assert.ok(issues.some((i) => i.startsWith("routes.yaml:4:") && i.includes("Cannot parse host")));
  assert.ok(issues.some((i) => i.startsWith("routes.yaml:5:") && i.includes("only one of env")));
});

Deno.test("id segment patterns and app globs are checked at their line", () => {
  const issues = issuesOf(`routes:
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
    allow:
      - GET /tasks/{ulid}
      - GET /tasks/{id}
      - GET /chats/{x:(}
    body:
      apps: ["acme/*", "acme"]
  - name: openai
    path: /openai
    preset: openai
    body: { apps: ["acme/*"] }
`);
  assert.deepEqual(issues.map((i) => i.split(" ")[0]), [
    "routes.yaml:7:9",
    "routes.yaml:8:9",
    "routes.yaml:10:24",
    "routes.yaml:14:19",
  ]);
  assert.match(
    issues[0],
    /unknown segment pattern \{id\}: use \{ulid\}, \{uuid\} or \{name:REGEX\}/,
  );
  assert.match(issues[1], /cannot compile \{x:…\}/);
  assert.match(issues[2], /Cannot parse app "acme": use namespace\/name/);
  assert.match(
    issues[3],
    /Only a preset with a body field policy \(inference.sh\) takes body.apps/,
  );
});
