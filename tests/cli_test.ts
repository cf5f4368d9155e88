import assert from "node:assert/strict";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const data = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

async function run(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("check prints the route table and warns about keys that are not set", async () => {
  const result = await run(["check", "--config", data("valid.yaml")], {
    KEYWARD_TEST_OPENAI_KEY: "sk-x",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /NAME\s+PATH\s+MODE\s+UPSTREAM\s+ALLOW\s+KEY\s+AUTH/);
  assert.match(result.stdout, /quiet clients are dropped after: header 60s, body 60s, idle 75s/);
  assert.match(
    result.stdout,
    /openai\s+\/openai\s+path\s+https:\/\/api\.openai\.com\s+14\s+env:OPENAI|KEYWARD_TEST_OPENAI_KEY/,
  );
  assert.match(result.stdout, /fal\s+\/api\/fal\/proxy\s+target\s+fal\.run queue\.fal\.run/);
  assert.match(result.stdout, /warning: .*valid\.yaml:6:5 route fal: key env:FAL_KEY is not set/);
  assert.equal(result.stdout.includes("sk-x"), false, "check never prints a key");
});

Deno.test("check shows a target merged from the route and its preset", async () => {
  const result = await run(["check", "--config", data("merged_target.yaml")]);
  assert.equal(result.code, 0, result.stderr);
  // The route names only its hosts; the preset's header and EventSource parameter stay.
  assert.match(
    result.stdout,
    /inference\s+\/api\/inference\/proxy\s+target\s+api\.example\.com via x-inf-target-url, \?__inf_target\s/,
  );
});

Deno.test("check warns, at its line, when an inference.sh route's browsers will be refused", async () => {
  // @inferencesh/sdk's proxy mode sends credentials: "include"; without credentials: true
  // Chromium refuses every answer.
  const result = await run(["check", "--config", data("inference_cors.yaml")]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /warning: .*inference_cors\.yaml:7:5 route inference: @inferencesh\/sdk sends credentialed requests; set server\.cors\.credentials: true/,
  );
  assert.doesNotMatch(result.stdout, /route openai: .*credentials/);
  const ok = await run(["check", "--config", data("inference_cors_ok.yaml")]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.doesNotMatch(ok.stdout, /credentials/);
});

Deno.test("check points a typo at its line and suggests the key", async () => {
  const result = await run(["check", "--config", data("typo.yaml")]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /typo\.yaml:4:5 routes\[0\]\.upstrem: Unknown key "upstrem" \(did you mean "upstream"\?\)/,
  );
});

Deno.test("check reports every error of a file with its own line", async () => {
  const result = await run(["check", "--config", data("several.yaml")]);
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split("\n");
  const positions = lines.map((line) => line.split(" ")[0].replace(/^.*several\.yaml:/, ""));
  assert.deepEqual(positions, ["2:9", "4:5", "11:17", "14:15", "16:9"], result.stderr);
  assert.match(lines[1], /exact origins: "\*" cannot be used with credentials/);
  assert.match(lines[2], /Cannot parse rate "60\/fortnight"/);
  assert.match(lines[3], /Upstream must use https/);
  assert.match(lines[4], /unknown method GRAB/);
});

Deno.test("check names an unset variable and a YAML syntax error with their lines", async () => {
  const unset = await run(["check", "--config", data("unset_env.yaml")]);
  assert.equal(unset.code, 1);
  assert.match(
    unset.stderr,
    /unset_env\.yaml:6:17 Environment variable KEYWARD_TEST_UNSET_TENANT is not set/,
  );
  const broken = await run(["check", "--config", data("bad_yaml.yaml")]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /bad_yaml\.yaml:4:\d+ /);
  const missing = await run(["check", "--config", data("no_such_file.yaml")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no_such_file\.yaml:1:1 Cannot read config/);
});

Deno.test("schema prints the JSON Schema generated from the zod schema", async () => {
  const result = await run(["schema"]);
  assert.equal(result.code, 0, result.stderr);
  const schema = JSON.parse(result.stdout);
  assert.equal(schema.type, "object");
  assert.equal(schema.additionalProperties, false);
  assert.ok(schema.properties.routes);
  assert.deepEqual(schema.required, ["routes"]);
  const route = schema.properties.routes.items;
  assert.ok(route.properties.upstream && route.properties.allow && route.properties.target);
});

Deno.test("serve: PORT beats the file, --port beats PORT, and /healthz answers", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir();
  const config = `${dir}/routes.yaml`;
  await Deno.writeTextFile(
    config,
    `server: { port: 1, hostname: 127.0.0.1 }\nroutes:\n  - { name: m, path: /m, upstream: ${mock.url}, allow: ["GET /**"] }\n`,
  );
  // Find a free port for PORT, then let --port 0 override it.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  for (const [args, expectPort] of [[[], freePort], [["--port", "0"], undefined]] as const) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--config", config, ...args],
      env: { PORT: String(freePort), NO_COLOR: "1" },
      clearEnv: true,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes('"listening"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    const port = Number(/"port":(\d+)/.exec(seen)?.[1]);
    if (expectPort !== undefined) assert.equal(port, expectPort);
    else assert.notEqual(port, freePort);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual(await health.json(), { status: "ok" });
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await reader.cancel();
  }
  await Deno.remove(dir, { recursive: true });
  await mock.close();
});

Deno.test("check --permissions lists what a binary locked to the file may reach, read and write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-cli-" });
  try {
    const config = `${dir}/routes.yaml`;
    await Deno.writeTextFile(
      config,
      `server: { hostname: 127.0.0.1 }
store: { kind: kv, path: ${dir}/limits.kv }
routes:
  - { name: own, path: /own, preset: openai, upstream: "https://models.internal:9443", key: { file: ${dir}/own.key } }
  - { name: openai, path: /openai, preset: openai }
`,
    );
    const result = await run(["check", "--config", config, "--permissions"]);
    assert.equal(result.code, 0, result.stderr);
    const grants = result.stdout.slice(result.stdout.indexOf("A binary locked"));
    assert.match(
      grants,
      /connect to or listen on {2}models\.internal:9443, api\.openai\.com, 127\.0\.0\.1\n/,
    );
    assert.match(grants, /read the variables {7}OPENAI_API_KEY, PORT\n/);
    assert.match(
      grants,
      new RegExp(`read the files {11}${config}, ${dir}/own.key, ${dir}/limits.kv\\n`),
    );
    assert.match(grants, new RegExp(`write the files {10}${dir}/limits.kv\\n`));

    const serving = await run(["serve", "--config", config, "--permissions"]);
    assert.equal(serving.code, 2);
    assert.match(serving.stderr, /--permissions goes with check/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
