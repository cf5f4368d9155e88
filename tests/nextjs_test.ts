/**
 * keyward in a real Next.js app: the npm package installed from its tarball into a fresh
 * project with an App Router route handler and a Pages Router API route, built with
 * `next build` and served by `next start` (compression on, as in production).
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { filesUnder, npmProject } from "./helpers/npm_project.ts";
import { startApp } from "./helpers/app_process.ts";
import { checkPerClient, checkStreamed } from "./helpers/app_checks.ts";
import { run } from "../scripts/npm/types.ts";

const NEXT_APP = new URL("./testdata/npm_apps/next", import.meta.url).pathname;
const KEY = "sk-next-SECRET";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("the npm package serves in a Next.js app built by next build, run by next start", async (t) => {
  const project = await npmProject(
    ["next@16.4.6", "react@19.3.1", "react-dom@19.3.1"],
    await filesUnder(NEXT_APP),
  );
  const mock = await startMockUpstream();
  const { dir } = project;
  const env = {
    PATH: Deno.env.get("PATH")!,
    HOME: dir,
    NEXT_TELEMETRY_DISABLED: "1",
    KW_NODE_KEY: KEY,
    MOCK_UPSTREAM: mock.url,
  };
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  try {
    await run("node", ["node_modules/next/dist/bin/next", "build"], dir);
    const port = freePort();
    app = await startApp(
      "node",
      ["node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", String(port)],
      dir,
      env,
      { port, ready: /Ready in/ },
    );
    const base = app.url;
    await t.step(
      "App Router: a streamed answer through gzip, event by event",
      () => checkStreamed(`${base}/api/app/openai`, mock, KEY),
    );
    await t.step(
      "Pages Router: a streamed answer through gzip, event by event",
      () => checkStreamed(`${base}/api/pages/openai`, mock, KEY),
    );
    await t.step(
      "App Router: a limited route counts per client",
      () => checkPerClient(`${base}/api/app/limited`),
    );
    await t.step(
      "Pages Router: a limited route counts per client",
      () => checkPerClient(`${base}/api/pages/limited`),
    );
    await t.step("the server is alive and logged every request, never the key", async () => {
      assert.ok(await app!.alive(), `next start died: ${app!.stderr()}`);
      const limited = app!.logs.filter((line) => String(line.route).endsWith("-limited"));
      assert.deepEqual(limited.map((line) => [line.route, line.client, line.status]), [
        ["app-limited", "127.0.0.2", 200],
        ["app-limited", "127.0.0.2", 200],
        ["app-limited", "127.0.0.2", 429],
        ["app-limited", "127.0.0.3", 200],
        ["pages-limited", "127.0.0.2", 200],
        ["pages-limited", "127.0.0.2", 200],
        ["pages-limited", "127.0.0.2", 429],
        ["pages-limited", "127.0.0.3", 200],
      ]);
      assert.equal(JSON.stringify(app!.logs).includes(KEY), false);
    });
  } finally {
    await app?.stop();
    await mock.close();
    await project.remove();
  }
});
