/**
 * keyward where its users run it: the npm package built, packed and installed into a fresh
 * Node project, then real Express 5 (with and without compression()) and Hono apps serving it
 * under Node 20 and Bun, each with its key and upstream from process.env and its config
 * from a file path. Every answer is read by a raw client sending Accept-Encoding: gzip.
 * Visitors earn a token under Node and Bun, argon2id's WebAssembly travelling in the package.
 * Realtime sessions run through Express's server (its `upgrade` event) and Bun.serve.
 */
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { npmProject } from "./helpers/npm_project.ts";
import { startApp } from "./helpers/app_process.ts";
import { timedRequest } from "./helpers/timed_client.ts";
import { checkPerClient, checkStreamed } from "./helpers/app_checks.ts";
import { type RealtimeMock, startRealtimeMock } from "./helpers/realtime_mock.ts";
import { connect } from "./helpers/socket_client.ts";

const APPS = new URL("./testdata/npm_apps/", import.meta.url).pathname;
const KEY = "sk-node-SECRET";
const chat = JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] });

async function appFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const names = [
    "express_app.mjs",
    "hono_app.mjs",
    "kv_refused.mjs",
    "routes.yaml",
    "edge_entry.mjs",
    "typed_app.ts",
    "tsconfig.json",
    "visitors_app.mjs",
    "realtime_app.mjs",
    "realtime.yaml",
  ];
  for (const name of names) {
    files[name] = await Deno.readTextFile(APPS + name);
  }
  return files;
}

/** Serves a streamed answer, a limited route and the app's own route; checks each. */
async function exercise(
  cmd: string,
  args: string[],
  dir: string,
  mock: MockUpstream,
  queue = false,
) {
  const app = await startApp(cmd, args, dir, {
    PATH: Deno.env.get("PATH")!,
    HOME: dir,
    KW_NODE_KEY: KEY,
    MOCK_UPSTREAM: mock.url,
  });
  try {
    await checkStreamed(`${app.url}/api/openai`, mock, KEY);
    await checkPerClient(`${app.url}/api/limited`);
    const own = await timedRequest(`${app.url}/hello`, { method: "GET" });
    assert.equal(own.text, "own route");
    if (queue) {
      // limits.queue: the second of two at once waits for the first's slot (2 s upstream).
      const both = await Promise.all(
        [0, 1].map(() => timedRequest(`${app.url}/api/queued/v1/slow`, { method: "GET" })),
      );
      assert.deepEqual(both.map((answer) => answer.status), [200, 200], both[1].text);
    }

    assert.ok(await app.alive(), `the app died: ${app.stderr()}`);
    const clients = app.logs.filter((line) => line.route === "limited").map((line) => line.client);
    assert.deepEqual(clients, ["127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"]);
    assert.equal(JSON.stringify(app.logs).includes(KEY), false);
  } finally {
    await app.stop();
  }
}

/**
 * A realtime session through an app (Express with `server.on("upgrade", ...)` on Node,
 * Bun.serve with the gateway's websocket handlers on Bun): clamped, metered, the key upstream;
 * then a page of an unlisted origin refused before any upstream socket.
 */
async function exerciseRealtime(cmd: string, dir: string, mock: RealtimeMock) {
  const app = await startApp(cmd, ["realtime_app.mjs", "realtime.yaml"], dir, {
    PATH: Deno.env.get("PATH")!,
    HOME: dir,
    KW_NODE_KEY: KEY,
    MOCK_REALTIME: mock.url,
  });
  try {
    const url = `${app.url.replace("http:", "ws:")}/api/openai/v1/realtime?model=gpt-realtime`;
    const c = await connect(url, ["realtime", "openai-insecure-api-key.anyone"]);
    assert.equal(c.ws.protocol, "realtime");
    await c.next("session.created");
    c.send({ type: "conversation.item.create", item: { content: [{ text: "hello from Node" }] } });
    c.send({ type: "response.create" });
    const done = await c.next("response.done");
    assert.equal((done.response as { max_output_tokens: number }).max_output_tokens, 7);
    c.ws.close(1000, "bye");
    await c.closed;
    const upstream = mock.log.findLast((e) => e.provider === "openai")!;
    assert.equal(upstream.headers.authorization, `Bearer ${KEY}`);
    assert.ok(await mock.closedWithin(upstream, 1000));

    const before = mock.log.length;
    const refused = await fetch(url.replace("ws:", "http:"), {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        origin: "https://evil.example",
      },
    });
    await refused.body?.cancel();
    assert.equal(refused.status, 403);
    assert.equal(mock.log.length, before);
    if (cmd === "node") {
      const own = await timedRequest(`${app.url}/hello`, { method: "GET" });
      assert.equal(own.text, "own route", "the app's own routes are still its own");
    }

    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = app.logs.find((l) => l.status === 101) as { session?: { responses: number } };
    assert.equal(line?.session?.responses, 1, JSON.stringify(app.logs));
    assert.ok(await app.alive(), `the app died: ${app.stderr()}`);
  } finally {
    await app.stop();
  }
}

const EDGE_CONFIG = `
clients:
  - { id: web-app, token: edge-client-token }
routes:
  - name: openai
    path: /api/openai
    upstream: \${MOCK_UPSTREAM}
    key: { env: KW_EDGE_KEY }
    auth: token
    allow: ["POST /v1/chat/completions"]
`;

/**
 * The installed package bundled whole for the browser platform (as wrangler bundles a
 * Worker), run in a worker whose Deno, process and Buffer globals are deleted before the
 * bundle loads; keys and `${VAR}`s come from the bindings passed to `app.fetch`.
 */
async function serveOnWebGlobalsOnly(dir: string, mock: MockUpstream) {
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "-o",
      "edge.js",
      "edge_entry.mjs",
    ],
    cwd: dir,
    stderr: "piped",
  }).output();
  assert.ok(bundled.success, new TextDecoder().decode(bundled.stderr));
  const code = await Deno.readTextFile(`${dir}/edge.js`);
  assert.doesNotMatch(code, /^import\b|\bimport\(["']node:/m, "the bundle stands alone");

  const worker = new Worker(new URL("./testdata/npm_apps/edge_worker.js", import.meta.url), {
    type: "module",
  });
  const answer = Promise.withResolvers<Record<string, unknown>>();
  worker.onmessage = ({ data }) => answer.resolve(data);
  worker.onerror = (event) => answer.reject(event.message);
  const seen = mock.requests.length;
  const post = (token: string) => ({
    url: "https://edge.example/api/openai/v1/chat/completions",
    init: { method: "POST", headers: { authorization: `Bearer ${token}` }, body: chat },
  });
  worker.postMessage({
    bundle: new URL(`file://${dir}/edge.js`).href,
    config: EDGE_CONFIG,
    bindings: { KW_EDGE_KEY: "sk-edge-SECRET", MOCK_UPSTREAM: mock.url },
    requests: [post("edge-client-token"), post("not-a-client")],
  });
  let data: Record<string, unknown>;
  try {
    data = await answer.promise;
  } finally {
    worker.terminate();
  }
  assert.equal(data.error, undefined, String(data.error));
  assert.deepEqual(data.globals, { Deno: "undefined", process: "undefined", Buffer: "undefined" });
  const [allowed, refused] = data.results as { status: number; text: string }[];
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(JSON.parse(allowed.text).choices[0].message.content, "Hello from the mock.");
  assert.equal(mock.requests[seen].headers.authorization, "Bearer sk-edge-SECRET");
  assert.equal(refused.status, 401);
  assert.equal(mock.requests.length, seen + 1);
  const records = data.records as { client?: string; status: number }[];
  assert.deepEqual(records.map((r) => [r.client, r.status]), [["web-app", 200], [undefined, 401]]);
}

Deno.test("the npm package serves in real Express and Hono apps under Node 20 and Bun", async (t) => {
  const project = await npmProject(
    [
      "express@5.3.0",
      "compression@1.8.2",
      "@hono/node-server@2.1.9",
      "bun@1.4.5",
      "typescript@5.9.3",
      "@types/node@20.19.43",
      "@types/express@5.0.6",
      "@phi-ag/argon2@0.5.28",
    ],
    await appFiles(),
  );
  const mock = await startMockUpstream();
  const realtime = await startRealtimeMock(KEY);
  const { dir } = project;
  const bun = `${dir}/node_modules/.bin/bun`;
  try {
    await t.step(
      "node: Express 5",
      () => exercise("node", ["express_app.mjs", "routes.yaml"], dir, mock, true),
    );
    await t.step(
      "node: Express 5 behind compression()",
      () =>
        exercise(
          "node",
          ["express_app.mjs", `${dir}/routes.yaml`, "--compression"],
          dir,
          mock,
        ),
    );
    // Event streams carry Cache-Control: no-transform, which compression() and Hono's compress()
    // honour: they pass plain, event by event; JSON answers are gzipped.
    await t.step(
      "node: Hono on @hono/node-server",
      () => exercise("node", ["hono_app.mjs", "routes.yaml"], dir, mock),
    );
    await t.step(
      "bun: Express 5 behind compression()",
      () => exercise(bun, ["express_app.mjs", "routes.yaml", "--compression"], dir, mock),
    );
    await t.step(
      "bun: Hono on Bun.serve",
      () => exercise(bun, ["hono_app.mjs", "routes.yaml"], dir, mock),
    );
    for (const [runtime, cmd] of [["node", "node"], ["bun", bun]]) {
      await t.step(`${runtime}: visitors earn a token with argon2id in WebAssembly`, async () => {
        const out = await new Deno.Command(cmd, {
          args: ["visitors_app.mjs"],
          cwd: dir,
          env: {
            PATH: Deno.env.get("PATH")!,
            HOME: dir,
            MOCK_UPSTREAM: mock.url,
            KW_NODE_KEY: KEY,
          },
          clearEnv: true,
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.ok(out.success, stderr);
        const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
        assert.deepEqual(
          { ...result, tokenCpuMs: undefined },
          {
            earned: 200,
            tokenCpuMs: undefined,
            chat: 200,
            answer: "Hello from the mock.",
            elsewhere: 403,
            script: 200,
            module: true,
          },
        );
      });
    }
    await t.step(
      "node: a realtime session through Express, its server's upgrade handed over",
      () => exerciseRealtime("node", dir, realtime),
    );
    await t.step(
      "bun: a realtime session through Bun.serve with the gateway's websocket handlers",
      () => exerciseRealtime(bun, dir, realtime),
    );
    await t.step(
      "web-standard globals only: a Workers-style Hono app",
      () => serveOnWebGlobalsOnly(dir, mock),
    );
    await t.step("types: a TypeScript app type-checks against the package", async () => {
      const out = await new Deno.Command("node", {
        args: ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"],
        cwd: dir,
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stdout));
    });
    await t.step("node: store kind kv is refused at load, with its line", async () => {
      const out = await new Deno.Command("node", { args: ["kv_refused.mjs"], cwd: dir }).output();
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(result.configError, true);
      assert.match(result.message, /^<inline>:4:9 store\.kind: store kind kv needs Deno/);
    });
  } finally {
    await mock.close();
    await realtime.close();
    await project.remove();
  }
});
