/**
 * keyward's Remix and SvelteKit handlers inside the real frameworks under Node 20, from the npm
 * package installed from its tarball into a fresh project:
 *
 * - React Router 7 (Remix's successor) through `@react-router/express` on Express 5 behind
 *   `compression()`: the adapter turns each Node request into a web `Request`, react-router's
 *   own request handler matches a resource route whose loader and action are keyward's, and
 *   `getLoadContext` passes the socket's address as `clientAddress`. The server build is the
 *   object `react-router build` would emit, written by hand (no vite step).
 * - SvelteKit built by `vite build` with adapter-node and run as `node build/index.js`, a
 *   `+server.js` rest endpoint exporting keyward's handler. adapter-node compresses only the
 *   static files it precompressed at build time (sirv), never an endpoint's answer, so the stream
 *   arrives plain although the client accepts gzip; `getClientAddress()` is the socket's address
 *   unless `ADDRESS_HEADER` is set.
 * - SvelteKit's `handler` in a custom Express server behind `compression()`, which SvelteKit
 *   never flushes: keyward's event streams say `no-transform`, so they pass plain, event by event.
 */
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { filesUnder, npmProject } from "./helpers/npm_project.ts";
import { type AppProcess, startApp } from "./helpers/app_process.ts";
import { checkPerClient, checkStreamed, SPACING_MS } from "./helpers/app_checks.ts";
import { timedRequest } from "./helpers/timed_client.ts";
import { run } from "../scripts/npm/types.ts";

const APPS = new URL("./testdata/npm_apps/", import.meta.url).pathname;
const KEY = "sk-remix-svelte-SECRET";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The SvelteKit app at the project's root, the React Router server under remix/. */
async function appFiles(): Promise<Record<string, string>> {
  const files = await filesUnder(`${APPS}sveltekit`);
  for (const [name, text] of Object.entries(await filesUnder(`${APPS}remix`))) {
    files[`remix/${name}`] = text;
  }
  files["routes.yaml"] = await Deno.readTextFile(`${APPS}routes.yaml`);
  return files;
}

/** Streams event by event, counts per client, and checks the app lived and logged. */
async function exercise(app: AppProcess, mock: MockUpstream) {
  await checkStreamed(`${app.url}/api/openai`, mock, KEY);
  await checkPerClient(`${app.url}/api/limited`);
  assert.ok(await app.alive(), `the app died: ${app.stderr()}`);
  const limited = app.logs.filter((line) => line.route === "limited");
  assert.deepEqual(limited.map((line) => [line.client, line.status]), [
    ["127.0.0.2", 200],
    ["127.0.0.2", 200],
    ["127.0.0.2", 429],
    ["127.0.0.3", 200],
  ]);
  assert.equal(JSON.stringify(app.logs).includes(KEY), false);
}

Deno.test("the npm package serves in React Router 7 on Express and in a built SvelteKit app under Node 20", async (t) => {
  const project = await npmProject(
    [
      "express@5.3.0",
      "compression@1.8.2",
      "react-router@7.18.4",
      "@react-router/express@7.18.4",
      "@sveltejs/kit@2.70.4",
      "@sveltejs/adapter-node@5.5.7",
      "@sveltejs/vite-plugin-svelte@6.2.4",
      "svelte@5.57.3",
      "vite@7.3.8",
    ],
    await appFiles(),
  );
  const mock = await startMockUpstream();
  const { dir } = project;
  const env = {
    PATH: Deno.env.get("PATH")!,
    HOME: dir,
    KW_NODE_KEY: KEY,
    MOCK_UPSTREAM: mock.url,
  };
  try {
    await t.step("React Router 7: @react-router/express behind compression()", async () => {
      const app = await startApp("node", ["remix/server.mjs", "routes.yaml"], dir, env);
      try {
        await exercise(app, mock);
      } finally {
        await app.stop();
      }
    });
    await t.step("SvelteKit: vite build with adapter-node, node build/index.js", async () => {
      await run("node", ["node_modules/vite/bin/vite.js", "build"], dir, 120_000);
      const port = freePort();
      const app = await startApp(
        "node",
        ["build/index.js"],
        dir,
        { ...env, HOST: "127.0.0.1", PORT: String(port) },
        { port, ready: /^Listening on / },
      );
      try {
        await exercise(app, mock);
      } finally {
        await app.stop();
      }
    });
    await t.step("SvelteKit: its handler in an Express server behind compression()", async () => {
      // SvelteKit never flushes compression(); keyward marks event streams no-transform, which
      // compression() honours, so events still arrive one by one (plainly).
      const app = await startApp("node", ["custom_server.mjs"], dir, env);
      try {
        const url = `${app.url}/api/openai/v1/chat/completions?spacing=${SPACING_MS}`;
        const stream = await timedRequest(url, {
          body: JSON.stringify({ model: "m", stream: true, messages: [] }),
        });
        assert.equal(stream.headers["content-encoding"], undefined);
        assert.match(stream.headers["cache-control"] ?? "", /no-transform/);
        await exercise(app, mock);
      } finally {
        await app.stop();
      }
    });
  } finally {
    await mock.close();
    await project.remove();
  }
});
