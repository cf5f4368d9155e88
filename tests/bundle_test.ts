import assert from "node:assert/strict";
import { derivePermissions } from "../scripts/compile/permissions.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("the bundled gateway serves with exactly the derived least-privilege permissions", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "keyward-bundle-" });
  const config = `${dir}/routes.yaml`;
  const yaml = `server:
  hostname: 127.0.0.1
store: { kind: kv, path: ${dir}/limits.kv }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: \${MOCK_UPSTREAM}
    limits: { requests: 2/hour }
`;
  await Deno.writeTextFile(config, yaml);
  const bundle = `${dir}/keyward.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=deno", "-o", bundle, "main.ts"],
    cwd: ROOT,
    stderr: "piped",
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));

  const env = { MOCK_UPSTREAM: mock.url, OPENAI_API_KEY: "sk-server-SECRET" };
  const flags = derivePermissions(config, yaml, (name) => env[name as keyof typeof env]);
  assert.deepEqual(flags.slice(0, 2), [
    `--allow-net=${mock.host},127.0.0.1`,
    "--allow-env=MOCK_UPSTREAM,OPENAI_API_KEY,PORT",
  ]);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, bundle, "serve", "--config", config, "--port", "0"],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    let port: number | undefined;
    while (port === undefined) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`The bundle exited: ${text}`);
      text += value;
      port = Number(/"event":"listening".*?"port":(\d+)/.exec(text)?.[1]) || undefined;
    }
    const response = await fetch(`http://127.0.0.1:${port}/openai/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).choices[0].message.content, "Hello from the mock.");
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-server-SECRET");
    // The limit counts in the KV file the permissions name, and nowhere else.
    const statuses = [];
    for (let i = 0; i < 2; i++) {
      const more = await fetch(`http://127.0.0.1:${port}/openai/v1/models`);
      await more.body?.cancel();
      statuses.push(more.status);
    }
    assert.deepEqual(statuses, [200, 429]);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await lines.cancel();
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the derived permissions deny what the config does not name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-perm-" });
  try {
    const flags = derivePermissions(
      `${dir}/routes.yaml`,
      "routes:\n  - name: o\n    path: /o\n    preset: openai\n",
      () => undefined,
    );
    const probe = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `const results = [];
for (const attempt of [
  () => Deno.readTextFileSync("/etc/hostname"),
  () => Deno.env.get("HOME"),
  () => Deno.connect({ hostname: "10.0.0.1", port: 443 }),
]) {
  try { await attempt(); results.push("allowed"); } catch (e) { results.push(e.name); }
}
console.log(JSON.stringify(results));`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, probe],
      stderr: "piped",
    }).output();
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
      "NotCapable",
      "NotCapable",
      "NotCapable",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
