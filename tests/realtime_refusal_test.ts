/**
 * A provider that refuses a realtime handshake answers over HTTP, and its answer is the
 * client's: redacted of the key, however the answer is cut. The gateway reads at most 64 KiB of
 * it, so a key the provider echoes across that cut must not reach the client as its first
 * characters either.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";

const KEY = "sk-upstream-Lk4Jh7Gf2Ds9Aa5Zx3Cv8Bn1";
const TOKEN = "kw_refusal_client_Qp2";
const READ = 64 * 1024;

/** Upgrade requests get 401 with `body(key)`; the key must arrive in a header. */
async function refusingProvider(body: (key: string) => string) {
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr) },
    (request) => {
      const key = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
      return new Response(body(key), {
        status: 401,
        headers: { "content-type": "application/json" },
      });
    },
  );
  const { port } = await ready.promise;
  return { url: `http://127.0.0.1:${port}`, close: () => server.shutdown() };
}

async function refusal(body: (key: string) => string): Promise<{ status: number; text: string }> {
  const provider = await refusingProvider(body);
  const gw = await startGateway(
    `clients:
  - { id: app, token: ${TOKEN} }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${provider.url}
    auth: token
`,
    { OPENAI_API_KEY: KEY },
  );
  try {
    const answer = await fetch(`${gw.url}/openai/v1/realtime?model=gpt-realtime`, {
      headers: {
        authorization: `Bearer ${TOKEN}`,
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    return { status: answer.status, text: await answer.text() };
  } finally {
    await gw.close();
    await provider.close();
  }
}

Deno.test("a provider's refusal of a handshake reaches the client with the key it echoes redacted", async () => {
  const { status, text } = await refusal((key) =>
    JSON.stringify({ error: { message: `Incorrect API key provided: ${key}` } })
  );
  assert.equal(status, 401);
  assert.ok(!text.includes(KEY), text);
  assert.match(text, /Incorrect API key provided: \[redacted\]/);
});

Deno.test("a refusal cut at what the gateway reads never ends in the start of the key", async () => {
  for (const before of [8, 12, KEY.length - 1]) {
    // the key starts `before` bytes ahead of the cut
    const { status, text } = await refusal((key) => "x".repeat(READ - before) + key + " and more");
    assert.equal(status, 401);
    assert.ok(text.length <= READ, `${text.length} bytes`);
    assert.ok(
      !text.endsWith(KEY.slice(0, before)),
      `the first ${before} characters of the key reached the client`,
    );
    assert.ok(text.startsWith("xxxx"), "the rest of the refusal is the client's");
  }
});
