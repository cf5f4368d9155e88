/**
 * Realtime sessions through the gateway, against a loopback stand-in speaking OpenAI's
 * Realtime and Gemini's Live event shapes (helpers/realtime_mock.ts): the key goes upstream in
 * a header and the client's token never does; the 101 names the upstream's subprotocol;
 * output is clamped (even for responses the upstream starts by itself); usage is metered from
 * `response.done` and from Gemini's binary `usageMetadata`; a model switch, a frame past the
 * cap and a spent budget end the session with an `error` event and 1008 (1009); refusals at the
 * upgrade open no upstream socket; hang-ups each way close the other side within a second; a
 * key an upstream echoes never reaches the client, in a frame or a close reason; limits count a
 * session once and hold its slot while it is open; an idle or over-long session is closed; a
 * client that stops reading is closed with bounded memory; 16 KB frames are not held back.
 *
 * @module
 */
import assert from "node:assert/strict";
import WebSocketClient from "ws";
import { mintToken } from "../src/auth/mint.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type RealtimeMock, startRealtimeMock } from "./helpers/realtime_mock.ts";
import { connect } from "./helpers/socket_client.ts";

const KEY = "sk-upstream-Qw7Er2Ty9Ui4Op1As";
const TOKEN = "kw_alice_Zx8Cv3Bn6";
const LIVE = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
const JWT_SECRET = "jwt-secret-for-realtime-tests-0123456789";

function yaml(mock: RealtimeMock): string {
  return `server:
  cors: { origins: ["http://app.example"] }
prices:
  gpt-realtime: { input: 100, output: 100 }
clients:
  - { id: alice, token: ${TOKEN} }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: token
    body: { models: [gpt-realtime], max_tokens: 5, deny: ["forbidden words"] }
    limits: { body: 64kb }
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${mock.url}
    auth: token
    body: { models: [gemini-live-2.5-flash-preview], max_tokens: 5 }
  - name: budget
    path: /budget
    preset: openai
    upstream: ${mock.url}
    auth: token
    limits: { tokens: 20/day }
  - name: spend
    path: /spend
    preset: openai
    upstream: ${mock.url}
    auth: token
    limits: { spend: $0.002/day }
  - name: limited
    path: /limited
    preset: openai
    upstream: ${mock.url}
    auth: token
    limits: { concurrent: 1, requests: 3/min }
  - name: idle
    path: /idle
    preset: openai
    upstream: ${mock.url}
    limits: { timeout: 400ms }
  - name: short
    path: /short
    preset: openai
    upstream: ${mock.url}
    limits: { session: 600ms }
  - name: slow
    path: /slow
    preset: openai
    upstream: ${mock.url}
    limits: { timeout: 1s }
  - name: plain
    path: /plain
    preset: openai
    upstream: ${mock.url}
  - name: jwt-openai
    path: /jwt-openai
    preset: openai
    upstream: ${mock.url}
    auth: { jwt: { secret: ${JWT_SECRET} } }
  - name: jwt-gemini
    path: /jwt-gemini
    preset: gemini
    upstream: ${mock.url}
    auth: { jwt: { secret: ${JWT_SECRET} } }
`;
}

let mock: RealtimeMock;
let gw: TestGateway;
let ws: string;
const offer = ["realtime", `openai-insecure-api-key.${TOKEN}`];

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The log line of the request with `path` that ended last. */
async function lineFor(path: string, ms = 2000) {
  const until = performance.now() + ms;
  for (;;) {
    const line = gw.logs.findLast((l) => l.path === path);
    if (line || performance.now() > until) return line;
    await delay(10);
  }
}

/** The handshake headers of a raw upgrade request (for refusals read as HTTP answers). */
const HANDSHAKE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

Deno.test({
  name: "realtime sessions",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    mock = await startRealtimeMock(KEY);
    gw = await startGateway(yaml(mock), { OPENAI_API_KEY: KEY, GEMINI_API_KEY: KEY });
    ws = gw.url.replace("http:", "ws:");
    try {
      await run(t);
    } finally {
      await gw.close();
      await mock.close();
    }
  },
});

async function run(t: Deno.TestContext) {
  await t.step(
    "openai: the token in a subprotocol, the key upstream, clamps and usage",
    async () => {
      const before = gw.logs.length;
      const c = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, [
        ...offer,
        "openai-organization.org_other",
        "openai-project.proj_other",
        "x-app.v2",
      ]);
      assert.equal(c.ws.protocol, "realtime", "the 101 names the upstream's subprotocol");
      const created = await c.next("session.created");
      assert.equal((created.session as { model: string }).model, "gpt-realtime");
      c.send({
        type: "conversation.item.create",
        item: {
          type: "message",
          role: "user",
          content: [{ type: "input_text", text: "hi there" }],
        },
      });
      c.send({ type: "response.create", response: { max_output_tokens: 4096 } });
      const done = await c.next("response.done");
      const response = done.response as {
        max_output_tokens: number;
        usage: { output_tokens: number };
      };
      assert.equal(response.max_output_tokens, 5, "response.create clamped");
      assert.ok(response.usage.output_tokens <= 5);
      // The gateway's own session.update (the clamp for responses the upstream starts itself) is
      // answered upstream, never seen by the client.
      assert.equal(c.events.filter((e) => e.type === "session.updated").length, 0);
      c.ws.close(1000, "bye");
      await c.closed;

      const upstream = mock.log.findLast((e) => e.provider === "openai")!;
      assert.equal(upstream.headers.authorization, `Bearer ${KEY}`);
      assert.deepEqual(
        upstream.protocols,
        ["realtime", "x-app.v2"],
        "other subprotocols pass; no token, organization or project",
      );
      assert.ok(!JSON.stringify(upstream).includes(TOKEN), "the client's token never went up");
      assert.match(upstream.received[0], /"event_id":"event_keyward_clamp".*"max_output_tokens":5/);

      const line = (await lineFor("/openai/v1/realtime"))!;
      assert.equal(gw.logs.length, before + 1, "one line per session, none for the upgrade");
      assert.equal(line.status, 101);
      assert.equal(line.client, "alice");
      assert.ok(line.tokens && line.tokens.output > 0 && line.tokens.input > 0, "usage metered");
      assert.equal(line.session?.frames_in, 2);
      assert.equal(line.session?.closed_by, "client");
      assert.equal(line.session?.close_upstream, 1000);
      assert.equal(line.session?.responses, 1);
      assert.ok((line.bytes_in ?? 0) > 0 && (line.bytes_out ?? 0) > 0);
    },
  );

  await t.step("openai: a model switch mid-session gets an error event and 1008", async () => {
    const c = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await c.next("session.created");
    c.send({ type: "session.update", event_id: "evt_1", session: { model: "gpt-realtime-mini" } });
    const error = (await c.next("error")).error as Record<string, unknown>;
    assert.equal(error.code, "model_not_allowed");
    assert.equal(error.event_id, "evt_1");
    assert.equal(error.param, "session.model");
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, "model_not_allowed");
    const upstream = mock.log.findLast((e) => e.provider === "openai")!;
    assert.ok(await mock.closedWithin(upstream, 1000), "the upstream socket closes too");
    assert.ok(!upstream.received.some((frame) => frame.includes("gpt-realtime-mini")));
    assert.equal((await lineFor("/openai/v1/realtime"))?.error, "frame_refused");
  });

  await t.step("deny rules read the text a client adds; any frame must be JSON", async () => {
    const c = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await c.next("session.created");
    c.send({
      type: "conversation.item.create",
      item: { type: "message", content: [{ type: "input_text", text: "some FORBIDDEN words" }] },
    });
    assert.equal(((await c.next("error")).error as { code: string }).code, "denied_text");
    assert.equal((await c.closed).code, 1008);

    const d = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await d.next("session.created");
    d.ws.send("not json");
    assert.equal(((await d.next("error")).error as { code: string }).code, "invalid_frame");
    assert.equal((await d.closed).code, 1008);
  });

  await t.step("a frame past limits.body closes the session with 1009", async () => {
    const c = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await c.next("session.created");
    c.send({ type: "input_audio_buffer.append", audio: "A".repeat(70_000) });
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.equal((await lineFor("/openai/v1/realtime"))?.error, "frame_too_large");
  });

  await t.step("refusals at the upgrade open no upstream socket", async () => {
    const before = mock.log.length;
    const refused = async (path: string, headers: Record<string, string>) => {
      const answer = await fetch(`${gw.url}${path}`, { headers: { ...HANDSHAKE, ...headers } });
      await answer.body?.cancel();
      return answer.status;
    };
    const bearer = { authorization: `Bearer ${TOKEN}` };
    assert.equal(await refused("/openai/v1/realtime?model=gpt-4o-realtime-preview", bearer), 403);
    assert.equal(await refused("/openai/v1/realtime", bearer), 400, "a session names its model");
    assert.equal(
      await refused("/openai/v1/realtime?model=gpt-realtime", {
        ...bearer,
        origin: "https://evil.example",
      }),
      403,
      "cross-site WebSocket hijacking",
    );
    assert.equal(await refused("/openai/v1/realtime?model=gpt-realtime", {}), 401);
    assert.equal(
      await refused("/openai/v1/realtime?model=gpt-realtime", {
        ...bearer,
        "sec-websocket-version": "8",
      }),
      400,
    );
    assert.equal(mock.log.length, before, "no upstream socket was opened");
    // A listed origin is served, as for any request.
    const c = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await c.next("session.created");
    c.ws.close();
    await c.closed;
  });

  await t.step(
    "the key never reaches the client: not in a frame, not in a close reason",
    async () => {
      // The route without a clamp: the whole reply, with the key in it, comes back.
      const c = await connect(
        `${ws}/plain/v1/realtime?model=gpt-realtime&mock_leak_key=1&mock_close_after=300`,
        ["realtime"],
      );
      await c.next("session.created");
      c.send({ type: "conversation.item.create", item: { content: [{ text: "x" }] } });
      c.send({ type: "response.create" });
      const done = await c.next("response.done");
      const closed = await c.closed;
      assert.equal(closed.code, 4000);
      assert.equal(closed.reason, "", "a reason holding the key is dropped");
      assert.ok(JSON.stringify(done).includes("[redacted]"));
      assert.ok(!JSON.stringify(c.events).includes(KEY), "no key in any frame");
    },
  );

  await t.step("hang-ups each way close the other side within a second", async () => {
    // The upstream hangs up: the client gets its code and reason.
    const c = await connect(
      `${ws}/openai/v1/realtime?model=gpt-realtime&mock_close_after=200`,
      offer,
    );
    const upstreamOpened = performance.now();
    const closed = await c.closed;
    assert.equal(closed.code, 4000);
    assert.equal(closed.reason, "mock closed");
    assert.ok(closed.at - upstreamOpened < 1200);
    assert.equal((await lineFor("/openai/v1/realtime"))?.session?.closed_by, "upstream");

    // The client hangs up: the upstream sees its code and reason.
    const d = await connect(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await d.next("session.created");
    const upstream = mock.log.findLast((e) => e.provider === "openai")!;
    const hungUp = performance.now();
    d.ws.close(4001, "client bye");
    assert.ok(await mock.closedWithin(upstream, 1000), "within a second");
    assert.ok(performance.now() - hungUp < 1000);
    assert.deepEqual(upstream.closed, { code: 4001, reason: "client bye" });

    // The client vanishes without a close frame: the upstream is told it went away.
    const e = new WebSocketClient(`${ws}/openai/v1/realtime?model=gpt-realtime`, offer);
    await new Promise((resolve) => e.once("message", resolve));
    const vanishing = mock.log.findLast((entry) => entry.provider === "openai")!;
    e.terminate();
    assert.ok(await mock.closedWithin(vanishing, 1000), "within a second");
  });

  await t.step("gemini: token from ?key= stripped, binary frames, setup clamp, usage", async () => {
    const c = await connect(`${ws}/gemini${LIVE}?key=${TOKEN}`);
    c.send({
      setup: {
        model: "models/gemini-live-2.5-flash-preview",
        generationConfig: { responseModalities: ["TEXT"] },
      },
    });
    const ready = await c.next("setupComplete");
    assert.equal(ready.binary, true, "binary as Google sends it");
    c.send({
      clientContent: { turns: [{ role: "user", parts: [{ text: "a question long enough" }] }] },
    });
    const last = await c.next("usageMetadata");
    assert.ok((last.usageMetadata as { responseTokenCount: number }).responseTokenCount <= 5);
    c.ws.close();
    await c.closed;
    const upstream = mock.log.findLast((e) => e.provider === "gemini")!;
    assert.equal(upstream.headers["x-goog-api-key"], KEY);
    assert.ok(!("key" in upstream.query), "the client's token is stripped from the query");
    assert.match(upstream.received[0], /"maxOutputTokens":5/, "the clamp was added");
    const line = (await lineFor(`/gemini${LIVE}`))!;
    assert.ok(line.tokens && line.tokens.output > 0, "usage from binary usageMetadata");
    assert.equal(line.session?.model, "gemini-live-2.5-flash-preview");
  });

  await t.step("gemini: another model in setup, even in a binary frame, is 1008", async () => {
    const c = await connect(`${ws}/gemini${LIVE}?key=${TOKEN}`);
    c.ws.send(new TextEncoder().encode(JSON.stringify({
      setup: { model: "models/gemini-2.5-flash-native-audio-preview-12-2025" },
    })));
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /not allowed/);
    const upstream = mock.log.findLast((e) => e.provider === "gemini")!;
    assert.deepEqual(upstream.received, [], "the setup never reached the upstream");
  });

  await t.step("a budget spent mid-session closes it; the next session is 429", async () => {
    const c = await connect(`${ws}/budget/v1/realtime?model=gpt-realtime`, offer);
    await c.next("session.created");
    c.send({
      type: "conversation.item.create",
      item: { content: [{ type: "input_text", text: "more than twenty tokens: ".repeat(4) }] },
    });
    c.send({ type: "response.create" });
    await c.next("response.done");
    const error = (await c.next("error")).error as { code: string };
    assert.equal(error.code, "budget_spent");
    assert.equal((await c.closed).code, 1008);
    const line = (await lineFor("/budget/v1/realtime"))!;
    assert.equal(line.error, "token_budget");
    const again = await fetch(`${gw.url}/budget/v1/realtime?model=gpt-realtime`, {
      headers: { ...HANDSHAKE, authorization: `Bearer ${TOKEN}` },
    });
    await again.body?.cancel();
    assert.equal(again.status, 429);
    assert.ok(again.headers.has("retry-after"));
  });

  await t.step(
    "a spend budget: each response priced, the session closed once it is spent",
    async () => {
      const c = await connect(`${ws}/spend/v1/realtime?model=gpt-realtime`, offer);
      await c.next("session.created");
      c.send({
        type: "conversation.item.create",
        item: { content: [{ type: "input_text", text: "more than twenty tokens: ".repeat(4) }] },
      });
      c.send({ type: "response.create" });
      const done = (await c.next("response.done")).response as { usage: { total_tokens: number } };
      const error = (await c.next("error")).error as { code: string };
      assert.equal(error.code, "budget_spent");
      assert.equal((await c.closed).code, 1008);
      const line = (await lineFor("/spend/v1/realtime"))!;
      assert.equal(line.error, "spend_budget");
      // $100 per million tokens, in and out alike: what the response reported, to the cent's 1e-8.
      assert.equal(line.cost_usd, done.usage.total_tokens * 100 / 1e6);
      const again = await fetch(`${gw.url}/spend/v1/realtime?model=gpt-realtime`, {
        headers: { ...HANDSHAKE, authorization: `Bearer ${TOKEN}` },
      });
      await again.body?.cancel();
      assert.equal(again.status, 429);
    },
  );

  await t.step("a session counts once in requests and holds its concurrent slot", async () => {
    const first = await connect(`${ws}/limited/v1/realtime?model=gpt-realtime`, offer);
    await first.next("session.created");
    const second = await fetch(`${gw.url}/limited/v1/realtime?model=gpt-realtime`, {
      headers: { ...HANDSHAKE, authorization: `Bearer ${TOKEN}` },
    });
    await second.body?.cancel();
    assert.equal(second.status, 429, "concurrent: 1");
    // Frames do not count as requests.
    for (let i = 0; i < 5; i++) first.send({ type: "input_audio_buffer.append", audio: "AAAA" });
    first.ws.close();
    await first.closed;
    await delay(50);
    const third = await connect(`${ws}/limited/v1/realtime?model=gpt-realtime`, offer);
    await third.next("session.created");
    third.ws.close();
    await third.closed;
  });

  await t.step("silent both ways for limits.timeout, or past limits.session: closed", async () => {
    const idle = await connect(`${ws}/idle/v1/realtime?model=gpt-realtime`, offer);
    await idle.next("session.created");
    const quiet = performance.now();
    const closed = await idle.closed;
    assert.deepEqual([closed.code, closed.reason], [1000, "idle timeout"]);
    assert.ok(closed.at - quiet >= 350 && closed.at - quiet < 1200);
    assert.equal((await lineFor("/idle/v1/realtime"))?.error, "session_idle");

    // A busy session is not idle; it still ends at limits.session.
    const busy = await connect(`${ws}/short/v1/realtime?model=gpt-realtime`, offer);
    await busy.next("session.created");
    const opened = performance.now();
    const timer = setInterval(
      () => busy.send({ type: "input_audio_buffer.append", audio: "" }),
      50,
    );
    const ended = await busy.closed;
    clearInterval(timer);
    assert.deepEqual([ended.code, ended.reason], [1008, "session time limit reached"]);
    assert.ok(ended.at - opened >= 500 && ended.at - opened < 1500);
  });

  await t.step("a client that stops reading is closed, its memory bounded", async () => {
    // A raw client: the handshake, one response.create, then it never reads again.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gw.url).port) });
    const encoder = new TextEncoder();
    await conn.write(encoder.encode(
      "GET /slow/v1/realtime?model=gpt-realtime&mock_flood=600&mock_flood_bytes=65536 " +
        "HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Protocol: realtime\r\n\r\n",
    ));
    await conn.read(new Uint8Array(4096));
    const payload = encoder.encode('{"type":"response.create"}');
    const mask = [1, 2, 3, 4];
    await conn.write(
      new Uint8Array([
        0x81,
        0x80 | payload.length,
        ...mask,
        ...payload.map((b, i) => b ^ mask[i % 4]),
      ]),
    );
    const line = await lineFor("/slow/v1/realtime", 20_000);
    conn.close();
    assert.equal(line?.error, "client_slow");
    assert.equal(line?.session?.close_client, 1008);
    // 600 deltas of 64 KiB (39 MB) were on offer; the gateway took a few MB at most.
    assert.ok((line?.bytes_out ?? 0) < 12 * 1024 * 1024, `relayed ${line?.bytes_out} bytes`);
  });

  await t.step(
    "16 KB frames are relayed at once (no Nagle stall on the upstream socket)",
    async () => {
      const client = new WebSocketClient(
        `${ws}/plain/v1/realtime?model=gpt-realtime&mock_echo=1`,
        ["realtime"],
        { perMessageDeflate: false },
      );
      await new Promise((resolve) => client.once("open", resolve));
      const frame = JSON.stringify({
        type: "input_audio_buffer.append",
        audio: "A".repeat(16_000),
      });
      const times: number[] = [];
      for (let i = 0; i < 40; i++) {
        const sent = performance.now();
        await new Promise((resolve) => {
          client.once("message", resolve);
          client.send(frame);
        });
        times.push(performance.now() - sent);
      }
      client.close();
      await new Promise((resolve) => client.once("close", resolve));
      times.sort((a, b) => a - b);
      const median = times[20];
      console.log(`16 KB round trip: median ${median.toFixed(2)} ms`);
      assert.ok(median < 20, `median round trip ${median.toFixed(1)} ms (a stall is ~40 ms)`);
    },
  );

  await t.step(
    "ephemeral keys: model checked, lifetime capped, refused where budgets are",
    async () => {
      const mint = (route: string, body: unknown) =>
        fetch(`${gw.url}/${route}/v1/realtime/client_secrets`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const ok = await mint("openai", {
        expires_after: { anchor: "created_at", seconds: 7200 },
        session: { type: "realtime", model: "gpt-realtime" },
      });
      assert.equal(ok.status, 200);
      assert.ok((await ok.json()).value.startsWith("ek_"));
      const sent = JSON.parse(
        mock.log.findLast((e) => e.path.endsWith("client_secrets"))!.received[0],
      );
      assert.equal(sent.expires_after.seconds, 600);
      const other = await mint("openai", {
        session: { type: "realtime", model: "gpt-4o-realtime-preview" },
      });
      assert.equal(other.status, 403);
      await other.body?.cancel();
      const budgeted = await mint("budget", {
        session: { type: "realtime", model: "gpt-realtime" },
      });
      assert.equal(budgeted.status, 403);
      assert.match((await budgeted.json()).error.message, /counts tokens or dollars/);
    },
  );

  await t.step("a client token's claims narrow the models a session may use", async () => {
    const token = await mintToken({
      secret: JWT_SECRET,
      subject: "user-7",
      models: ["gpt-realtime", "gemini-live-2.5-flash-preview"],
    });
    const ok = await connect(`${ws}/jwt-openai/v1/realtime?model=gpt-realtime`, [
      "realtime",
      `openai-insecure-api-key.${token}`,
    ]);
    await ok.next("session.created");
    ok.ws.close();
    await ok.closed;
    assert.equal((await lineFor("/jwt-openai/v1/realtime"))?.client, "user-7");

    const other = await fetch(`${gw.url}/jwt-openai/v1/realtime?model=gpt-realtime-mini`, {
      headers: { ...HANDSHAKE, authorization: `Bearer ${token}` },
    });
    await other.body?.cancel();
    assert.equal(other.status, 403, "a model the token does not allow, at the upgrade");

    // Gemini names its model in the first frame: checked there.
    const live = await connect(`${ws}/jwt-gemini${LIVE}?key=${token}`);
    live.send({ setup: { model: "models/gemini-2.5-flash-native-audio-preview-12-2025" } });
    const closed = await live.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /token does not allow/);

    // A token with a budget of its own gets no ephemeral key (its spending would bypass it).
    const budgeted = await mintToken({
      secret: JWT_SECRET,
      subject: "user-8",
      limits: { tokens: "1000/day" },
    });
    const secret = await fetch(`${gw.url}/jwt-openai/v1/realtime/client_secrets`, {
      method: "POST",
      headers: { authorization: `Bearer ${budgeted}`, "content-type": "application/json" },
      body: JSON.stringify({ session: { type: "realtime", model: "gpt-realtime" } }),
    });
    assert.equal(secret.status, 403);
    await secret.body?.cancel();
  });

  await t.step("closing the gateway ends open sessions with 1001", async () => {
    const c = await connect(`${ws}/plain/v1/realtime?model=gpt-realtime`, ["realtime"]);
    await c.next("session.created");
    const upstream = mock.log.findLast((e) => e.provider === "openai")!;
    const board = gw.sessions();
    assert.equal(board.size, 1);
    board.closeAll();
    const closed = await c.closed;
    assert.deepEqual([closed.code, closed.reason], [1001, "server stopping"]);
    assert.ok(await mock.closedWithin(upstream, 1000));
    assert.equal((await lineFor("/plain/v1/realtime"))?.error, "server_stopping");
  });
}
