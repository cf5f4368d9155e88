import assert from "node:assert/strict";
import { type GatewayProcess, startGatewayProcess } from "./helpers/process.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";

const ENV = { KW_RELOAD_KEY: "sk-server-SECRET" };

function config(mock: MockUpstream, path: string, extra = ""): string {
  return `routes:
  - name: ${path.slice(1)}
    path: ${path}
    upstream: ${mock.url}
    key: { env: KW_RELOAD_KEY }
    allow: ["GET /spaced", "GET /ping"${extra}]
`;
}

async function waitFor(gw: GatewayProcess, event: string, count = 1) {
  const deadline = Date.now() + 10_000;
  while (gw.events.filter((e) => e.event === event).length < count) {
    if (Date.now() > deadline) throw new Error(`No ${event} event: ${JSON.stringify(gw.events)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return gw.events.filter((e) => e.event === event)[count - 1];
}

async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.status;
}

Deno.test("SIGHUP swaps the config for new requests while an older stream completes", async () => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(config(mock, "/old"), ENV);
  try {
    const stream = await fetch(`${gw.url}/old/spaced`);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";

    await Deno.writeTextFile(gw.configPath, config(mock, "/new"));
    gw.child.kill("SIGHUP");
    await waitFor(gw, "reloaded");
    assert.equal(await status(`${gw.url}/new/ping`), 200);
    assert.equal(await status(`${gw.url}/old/ping`), 404, "the old route is gone for new requests");

    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    assert.equal(text.match(/^data: /gm)?.length, 5, "the stream that began before finished");

    await Deno.writeTextFile(gw.configPath, config(mock, "/new").replace("upstream:", "upstrem:"));
    gw.child.kill("SIGHUP");
    const failed = await waitFor(gw, "reload_failed");
    assert.match(
      (failed.issues as string[]).join("\n"),
      /routes\.yaml:4:5 .*upstrem/,
      JSON.stringify(failed),
    );
    assert.equal(await status(`${gw.url}/new/ping`), 200, "the old config keeps serving");
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("reloads under load lose no request", async () => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(config(mock, "/api"), ENV);
  try {
    const statuses: number[] = [];
    let reloads = 0;
    const reloader = (async () => {
      for (let i = 1; i <= 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        const extra = i % 2 ? ', "POST /other"' : "";
        await Deno.writeTextFile(gw.configPath, config(mock, "/api", extra));
        gw.child.kill("SIGHUP");
        await waitFor(gw, "reloaded", i);
        reloads = i;
      }
    })();
    const workers = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 60; i++) statuses.push(await status(`${gw.url}/api/ping`));
    });
    await Promise.all([reloader, ...workers]);
    assert.equal(reloads, 4);
    assert.equal(statuses.length, 480);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], "every request was served");
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("SIGTERM stops accepting, lets a stream finish, and exits 0", async () => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(config(mock, "/api"), ENV);
  try {
    const stream = await fetch(`${gw.url}/api/spaced`);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    gw.child.kill("SIGTERM");
    await waitFor(gw, "stopping");
    await assert.rejects(() => fetch(`${gw.url}/healthz`), "no new connections while draining");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    assert.equal(text.match(/^data: /gm)?.length, 5);
    const exit = await gw.child.status;
    assert.equal(exit.code, 0);
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("a changed file reloads without a signal", async () => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(config(mock, "/before"), ENV);
  try {
    await Deno.writeTextFile(gw.configPath, config(mock, "/after"));
    await waitFor(gw, "reloaded");
    assert.equal(await status(`${gw.url}/after/ping`), 200);
    assert.equal(await status(`${gw.url}/before/ping`), 404);
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("draining is bounded: an endless stream does not keep the process alive", async () => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(
    "server:\n  drain: 300ms\n" + config(mock, "/api", ', "GET /endless"'),
    ENV,
  );
  try {
    const stream = await fetch(`${gw.url}/api/endless`);
    const reader = stream.body!.getReader();
    await reader.read();
    const stopped = performance.now();
    gw.child.kill("SIGTERM");
    const exit = await gw.child.status;
    const took = performance.now() - stopped;
    assert.equal(exit.code, 0);
    assert.ok(took < 5000, `exited after the 300 ms bound, not ${Math.round(took)} ms`);
    await reader.cancel().catch(() => {});
  } finally {
    await gw.stop();
    await mock.close();
  }
});
