/**
 * Realtime sessions on the standalone server (`main.ts serve` in its own process): Deno's
 * per-connection listener drops upgraded sockets, so a config whose routes proxy WebSockets
 * is served with plain `Deno.serve` where the server's self-test finds that, and says so; a
 * config without socket endpoints, or with `server.websockets: false`, keeps the protected
 * listener (and the latter answers upgrades 503); stopping the server ends open sessions with
 * 1001 on both sides, each with its log line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { upgradesSurvivePerConnection } from "../src/server/upgrade_check.ts";
import { startGatewayProcess } from "./helpers/process.ts";
import { startRealtimeMock } from "./helpers/realtime_mock.ts";
import { connect } from "./helpers/socket_client.ts";

const KEY = "sk-upstream-Lk3Jh8Gf2Ds5";

const HANDSHAKE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

Deno.test("the standalone server proxies sessions, and keeps its listener where it can", async () => {
  const mock = await startRealtimeMock(KEY);
  const survive = await upgradesSurvivePerConnection();
  const sockets = await startGatewayProcess(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
`,
    { OPENAI_API_KEY: KEY },
  );
  const plainHttp = await startGatewayProcess(
    `routes:
  - name: openai
    path: /openai
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow: ["POST /v1/chat/completions"]
`,
    { OPENAI_API_KEY: KEY },
  );
  const refused = await startGatewayProcess(
    `server:
  websockets: false
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
`,
    { OPENAI_API_KEY: KEY },
  );
  try {
    const reduced = (events: Record<string, unknown>[]) =>
      events.find((e) => e.event === "server_timeouts_unavailable");
    // Where this Deno drops upgraded sockets, the socket config says what it costs.
    if (survive) assert.equal(reduced(sockets.events), undefined);
    else assert.match(String(reduced(sockets.events)?.reason), /WebSockets.*websockets: false/);
    assert.equal(reduced(plainHttp.events), undefined, "no sockets: the protected listener");
    assert.equal(reduced(refused.events), undefined, "websockets: false keeps it too");

    // A session works through the standalone server.
    const url = sockets.url.replace("http:", "ws:");
    const c = await connect(`${url}/openai/v1/realtime?model=gpt-realtime`, ["realtime"]);
    await c.next("session.created");
    c.send({ type: "conversation.item.create", item: { content: [{ text: "hello" }] } });
    c.send({ type: "response.create" });
    await c.next("response.done");
    // It outlives a moment (the per-connection listener would have closed it at once).
    await new Promise((resolve) => setTimeout(resolve, 300));
    c.send({ type: "response.create" });
    await c.next("response.done");

    // Stopping the server ends it with 1001, and the line is written.
    const upstream = mock.log.findLast((e) => e.provider === "openai")!;
    const status = sockets.stop();
    const closed = await c.closed;
    assert.deepEqual([closed.code, closed.reason], [1001, "server stopping"]);
    assert.equal((await status).code, 0);
    assert.ok(await mock.closedWithin(upstream, 1000));
    const line = sockets.logs.find((l) => l.path === "/openai/v1/realtime") as {
      status: number;
      error: string;
      session: { responses: number };
    };
    assert.equal(line.status, 101);
    assert.equal(line.error, "server_stopping");
    assert.equal(line.session.responses, 2);

    const answer = await fetch(`${refused.url}/openai/v1/realtime?model=gpt-realtime`, {
      headers: HANDSHAKE,
    });
    assert.equal(answer.status, 503);
    assert.match((await answer.json()).error.message, /WebSocket/);
  } finally {
    await Promise.all([plainHttp.stop(), refused.stop()]);
    await mock.close();
  }
});
