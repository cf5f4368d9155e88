/**
 * Realtime sessions from a browser: a page in Chromium opens a native WebSocket to the
 * gateway with its token in the `openai-insecure-api-key.` subprotocol (what browsers must
 * do: they cannot set headers on a socket). From a listed origin it opens (the 101 names
 * `realtime`, without which Chromium fails the handshake), talks, and sees every refusal
 * mid-session as an `error` event and a 1008 close; a Gemini Live session sends its binary
 * frames through. The same page from an unlisted origin is refused before any upstream socket
 * is opened (cross-site WebSocket hijacking). No frame the browser received holds the key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchBrowser, servePages, type TestBrowser } from "./helpers/browser.ts";
import { startGateway } from "./helpers/gateway.ts";
import { startRealtimeMock } from "./helpers/realtime_mock.ts";

const KEY = "sk-upstream-Br7Ow3Se9Rk2";
const TOKEN = "kw_page_Tq6Wy1Ev4";
const LIVE = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

/** A page that opens a session and records what it saw in `window.result`. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>realtime</title>
<pre id="out"></pre>
<script type="module">
const params = new URLSearchParams(location.search);
const result = { events: [], binary: 0 };
window.result = result;
const ws = new WebSocket(params.get("url"), JSON.parse(params.get("protocols")));
ws.binaryType = "arraybuffer";
const steps = JSON.parse(params.get("send"));
ws.onopen = () => { result.protocol = ws.protocol; };
ws.onmessage = async (event) => {
  let text = event.data;
  if (typeof text !== "string") { result.binary++; text = new TextDecoder().decode(text); }
  const message = JSON.parse(text);
  result.events.push(message);
  document.getElementById("out").textContent += text.slice(0, 200) + "\\n";
  const triggers = message.type ? [message.type] : Object.keys(message);
  for (const trigger of triggers) {
    for (const frame of steps[trigger] ?? []) ws.send(JSON.stringify(frame));
    if (steps.closeOn === trigger) ws.close(1000, "done");
  }
};
ws.onerror = () => { result.error = true; };
ws.onclose = (event) => { result.closed = { code: event.code, reason: event.reason }; };
if (steps.open) ws.addEventListener("open", () => {
  for (const frame of steps.open) ws.send(JSON.stringify(frame));
});
</script>`;

Deno.test({
  name: "a browser page opens a session from a listed origin, and only from one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const mock = await startRealtimeMock(KEY);
    const site = await servePages({ "/": PAGE });
    const listed = site.origin("127.0.0.1");
    const gw = await startGateway(
      `server:
  cors: { origins: ["${listed}"] }
clients:
  - { id: page, token: ${TOKEN} }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: token
    body: { models: [gpt-realtime], max_tokens: 20 }
  - name: gemini
    path: /gemini
    preset: gemini
    upstream: ${mock.url}
    auth: token
`,
      { OPENAI_API_KEY: KEY, GEMINI_API_KEY: KEY },
    );
    const ws = gw.url.replace("http:", "ws:");
    let browser: TestBrowser | undefined;
    try {
      browser = await launchBrowser();
      const frames: string[] = [];
      const open = async (origin: string, url: string, protocols: string[], send: unknown) => {
        const page = await browser!.newPage();
        page.on("websocket", (socket) => {
          socket.on("framereceived", (frame) => frames.push(String(frame.payload)));
        });
        const query = new URLSearchParams({
          url,
          protocols: JSON.stringify(protocols),
          send: JSON.stringify(send),
        });
        await page.goto(`${origin}/?${query}`);
        await page.waitForFunction(
          () =>
            (window as unknown as { result: { closed?: unknown } })
              .result?.closed !== undefined,
          undefined,
          { timeout: 10_000 },
        );
        const result = await page.evaluate(() => (window as unknown as { result: unknown }).result);
        await page.close();
        return result as {
          protocol?: string;
          events: Record<string, unknown>[];
          binary: number;
          error?: boolean;
          closed: { code: number; reason: string };
        };
      };
      const openai = `${ws}/openai/v1/realtime?model=gpt-realtime`;
      const protocols = ["realtime", `openai-insecure-api-key.${TOKEN}`];

      // A listed origin: a turn, then a model switch, refused with an error event and 1008.
      const talk = {
        "session.created": [
          { type: "conversation.item.create", item: { content: [{ text: "hi from a page" }] } },
          { type: "response.create" },
        ],
        "response.done": [{
          type: "session.update",
          session: { model: "gpt-4o-realtime-preview" },
        }],
      };
      const listedRun = await open(listed, openai, protocols, talk);
      assert.equal(listedRun.protocol, "realtime");
      assert.ok(listedRun.events.some((e) => e.type === "response.done"));
      const error = listedRun.events.find((e) => e.type === "error")?.error as { code: string };
      assert.equal(error.code, "model_not_allowed");
      assert.deepEqual(listedRun.closed, { code: 1008, reason: "model_not_allowed" });

      // Gemini Live from the page: its binary frames pass as binary.
      const gemini = await open(listed, `${ws}/gemini${LIVE}?key=${TOKEN}`, [], {
        open: [{ setup: { model: "models/gemini-live-2.5-flash-preview" } }],
        setupComplete: [{ clientContent: { turns: [{ parts: [{ text: "hello" }] }] } }],
        closeOn: "usageMetadata",
      });
      assert.equal(gemini.protocol, "");
      assert.ok(gemini.binary >= 3, "setupComplete, text and usage came as binary frames");
      assert.deepEqual(gemini.closed, { code: 1000, reason: "done" });

      // An unlisted origin (another port is another origin): refused, no upstream socket.
      const before = mock.log.length;
      const other = await open(site.origin("localhost"), openai, protocols, talk);
      assert.equal(other.error, true);
      assert.equal(other.closed.code, 1006, "a refused handshake reads as 1006 in a page");
      assert.equal(other.events.length, 0);
      assert.equal(mock.log.length, before, "no upstream socket was opened");
      assert.ok(
        gw.logs.some((l) => l.error === "origin_not_allowed" && l.path === "/openai/v1/realtime"),
      );

      assert.ok(frames.length > 0);
      for (const frame of frames) assert.ok(!frame.includes(KEY), "no key in any frame");
    } finally {
      await browser?.close();
      await gw.close();
      await site.close();
      await mock.close();
    }
  },
});
