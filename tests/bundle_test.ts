import assert from "node:assert/strict";
import { derivePermissions, RELEASE_PERMISSIONS } from "../src/server/permissions.ts";
import { loadArgon2id } from "../src/visitors/argon2.ts";
import { solvePuzzle } from "../src/visitors/puzzle.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("the bundled gateway serves with exactly the derived least-privilege permissions", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "keyward-bundle-" });
  const config = `${dir}/routes.yaml`;
  const yaml = `server:
  hostname: 127.0.0.1
  visitors: { secret: "\${KEYWARD_VISITOR_SECRET}", proof_of_work: { seconds: 0.01 } }
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

  const env = {
    MOCK_UPSTREAM: mock.url,
    OPENAI_API_KEY: "sk-server-SECRET",
    KEYWARD_VISITOR_SECRET: "a-visitor-secret-of-32-bytes-or-more",
  };
  const flags = derivePermissions(config, yaml, (name) => env[name as keyof typeof env]);
  assert.deepEqual(flags.slice(0, 2), [
    `--allow-net=${mock.host},127.0.0.1`,
    "--allow-env=KEYWARD_VISITOR_SECRET,MOCK_UPSTREAM,OPENAI_API_KEY,PORT",
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
    // Visitors: argon2id's WebAssembly and the browser module travel inside the bundle.
    const issued = await (await fetch(`http://127.0.0.1:${port}/keyward/visitor/challenge`))
      .json();
    const nonce = solvePuzzle(await loadArgon2id(), issued.challenge, issued.difficulty, 1024, 1);
    const earned = await fetch(`http://127.0.0.1:${port}/keyward/visitor/token`, {
      method: "POST",
      body: JSON.stringify({ challenge: issued.challenge, nonce }),
    });
    assert.equal(earned.status, 200, await earned.clone().text());
    assert.match((await earned.json()).token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const script = await fetch(`http://127.0.0.1:${port}/keyward/visitor.js`);
    assert.match(await script.text(), /export function visitorToken/);
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

/** Bundles main.ts into `dir` (`deno compile` would download its runtime, which CI cannot). */
async function bundleInto(dir: string): Promise<string> {
  const bundle = `${dir}/keyward.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=deno", "-o", bundle, "main.ts"],
    cwd: ROOT,
    stderr: "piped",
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  return bundle;
}

/** A bundle serving under `flags`: its port, or how it failed when it exited first. */
async function runBundle(
  bundle: string,
  flags: readonly string[],
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, bundle, "serve", ...args, "--port", "0"],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await lines.read();
    if (done) return { exited: await child.status, text };
    text += value;
    const listening = /"event":"listening","hostname":"([^"]+)","port":(\d+)/.exec(text);
    if (listening) url = `http://${listening[1]}:${listening[2]}`;
  }
  return {
    url,
    text,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await lines.cancel();
    },
  };
}

async function ask(url: string): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    body: JSON.stringify({ model: "m", messages: [] }),
  });
}

Deno.test("a bundle with the release flags serves a config for another host from another directory", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "keyward-release-" });
  try {
    const bundle = await bundleInto(dir);
    // The user's own config and key file, away from both the bundle and the working directory.
    await Deno.mkdir(`${dir}/etc/keyward`, { recursive: true });
    await Deno.mkdir(`${dir}/work`);
    const config = `${dir}/etc/keyward/gateway.yaml`;
    await Deno.writeTextFile(`${dir}/etc/keyward/provider.key`, "sk-file-SECRET\n");
    await Deno.writeTextFile(
      config,
      `server: { hostname: 127.0.0.1 }
routes:
  - name: mine
    path: /mine
    preset: openai
    upstream: ${mock.url}
    key: { env: MY_PROVIDER_KEY }
  - name: filed
    path: /filed
    preset: openai
    upstream: ${mock.url}
    key: { file: ${dir}/etc/keyward/provider.key }
`,
    );
    const env = { MY_PROVIDER_KEY: "sk-env-SECRET" };
    // A loopback port the shipped config names nowhere.
    const shipped = await Deno.readTextFile(`${ROOT}routes.yaml`);
    assert.ok(!shipped.includes(mock.host));

    const release = await runBundle(
      bundle,
      RELEASE_PERMISSIONS,
      ["--config", config],
      env,
      `${dir}/work`,
    );
    assert.ok(release.url, release.text);
    try {
      for (const [route, key] of [["mine", "sk-env-SECRET"], ["filed", "sk-file-SECRET"]]) {
        const response = await ask(`${release.url}/${route}/v1/chat/completions`);
        assert.equal(response.status, 200);
        assert.equal((await response.json()).choices[0].message.content, "Hello from the mock.");
        assert.equal(mock.requests.at(-1)!.headers.authorization, `Bearer ${key}`);
      }
    } finally {
      await release.stop!();
    }

    // What release binaries were built with before: flags derived from the shipped routes.yaml.
    const shippedFlags = derivePermissions("routes.yaml", shipped, () => undefined);
    const locked = await runBundle(bundle, shippedFlags, ["--config", config], env, `${dir}/work`);
    assert.equal(locked.url, undefined);
    assert.notEqual(locked.exited!.code, 0);
    assert.match(locked.text, /Cannot read config: Requires read access/);

    // Release binaries write no files: a KV store in a file is refused at load, with its line.
    const kvConfig = `${dir}/etc/keyward/kv.yaml`;
    await Deno.writeTextFile(
      kvConfig,
      `store: { kind: kv, path: ${dir}/limits.kv }\nroutes:\n  - { name: o, path: /o, preset: openai }\n`,
    );
    const kv = await runBundle(bundle, RELEASE_PERMISSIONS, ["--config", kvConfig], env, dir);
    assert.equal(kv.exited?.code, 1);
    assert.match(kv.text, /kv\.yaml:1:\d+ This process may not write the KV file/);
    assert.match(kv.text, /deno task compile --config FILE/);
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bundle locked to a config refuses a host that config does not name", async () => {
  const named = await startMockUpstream();
  const other = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "keyward-locked-" });
  try {
    const bundle = await bundleInto(dir);
    const config = `${dir}/routes.yaml`;
    // Listening on localhost, so 127.0.0.1 is granted for the named upstream's port only.
    const yaml = (upstream: string) =>
      `server: { hostname: localhost }
routes:
  - { name: mine, path: /mine, preset: openai, upstream: "${upstream}" }
`;
    const flags = derivePermissions(config, yaml(named.url), () => undefined);
    assert.equal(flags[0], `--allow-net=${named.host},localhost`);
    const env = { OPENAI_API_KEY: "sk-server-SECRET" };

    await Deno.writeTextFile(config, yaml(named.url));
    const served = await runBundle(bundle, flags, ["--config", config], env, dir);
    assert.ok(served.url, served.text);
    try {
      const response = await ask(`${served.url}/mine/v1/chat/completions`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    } finally {
      await served.stop!();
    }

    // The same file, edited after the build to name another upstream.
    await Deno.writeTextFile(config, yaml(other.url));
    const refused = await runBundle(bundle, flags, ["--config", config], env, dir);
    assert.ok(refused.url, refused.text);
    try {
      const response = await ask(`${refused.url}/mine/v1/chat/completions`);
      assert.equal(response.status, 502);
      const { error } = await response.json();
      assert.equal(error.type, "bad_gateway");
      assert.equal(other.requests.length, 0);
    } finally {
      await refused.stop!();
    }
  } finally {
    await named.close();
    await other.close();
    await Deno.remove(dir, { recursive: true });
  }
});
