import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { serveLoopback } from "./helpers/serve.ts";

/** An upstream that refuses the revoked key, rate-limits the busy one, and records the rest. */
async function startKeyedUpstream() {
  const seen: { key: string; body: string }[] = [];
  const server = await serveLoopback(async (request) => {
    const key = request.headers.get("authorization") ?? "";
    seen.push({ key, body: await request.text() });
    if (key === "Bearer sk-revoked") {
      return Response.json({ error: { message: "Invalid API key" } }, { status: 401 });
    }
    if (key === "Bearer sk-busy") {
      return Response.json({ error: { message: "Slow down" } }, {
        status: 429,
        headers: { "retry-after": "60" },
      });
    }
    return Response.json({ ok: true });
  });
  return { url: server.url, seen, close: server.close };
}

function config(upstream: string): string {
  return `
server:
  status: /keyward/status
routes:
  - name: pooled
    path: /api
    upstream: ${upstream}
    key: { pool: [{ env: KEY_A }, { env: KEY_B }] }
    allow: ["GET /**", "POST /**"]
`;
}

Deno.test("a pool with one revoked key serves every request from the good key", async () => {
  const upstream = await startKeyedUpstream();
  const gw = await startGateway(config(upstream.url), { KEY_A: "sk-revoked", KEY_B: "sk-good" });
  try {
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${gw.url}/api/v1/chat`, {
        method: i % 2 ? "GET" : "POST",
        body: i % 2 ? undefined : JSON.stringify({ n: i }),
      });
      assert.equal(response.status, 200, `request ${i}`);
      assert.deepEqual(await response.json(), { ok: true });
    }
    const revoked = upstream.seen.filter((s) => s.key === "Bearer sk-revoked");
    assert.equal(revoked.length, 1, "the revoked key was tried once, then set aside");
    const replayed = upstream.seen[1];
    assert.deepEqual(replayed, { key: "Bearer sk-good", body: JSON.stringify({ n: 0 }) });
    assert.equal(gw.logs.filter((l) => l.retried).length, 1);

    const status = await (await fetch(`${gw.url}/keyward/status`)).text();
    assert.equal(status.includes("sk-revoked") || status.includes("sk-good"), false);
    const [route] = JSON.parse(status).routes;
    assert.equal(route.route, "pooled");
    assert.equal(route.keys[0].origin, "env:KEY_A");
    assert.equal(route.keys[0].state, "revoked");
    assert.match(route.keys[0].id, /^[0-9a-f]{8}$/);
    assert.ok(Date.parse(route.keys[0].retry_at) > Date.now());
    assert.deepEqual(route.keys[1].state, "healthy");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a rate-limited key cools down for the upstream's Retry-After", async () => {
  const upstream = await startKeyedUpstream();
  const gw = await startGateway(config(upstream.url), { KEY_A: "sk-busy", KEY_B: "sk-good" });
  try {
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${gw.url}/api/v1/models`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    assert.equal(upstream.seen.filter((s) => s.key === "Bearer sk-busy").length, 1);
    const [route] = (await (await fetch(`${gw.url}/keyward/status`)).json()).routes;
    assert.equal(route.keys[0].state, "rate_limited");
    const wait = Date.parse(route.keys[0].retry_at) - Date.now();
    assert.ok(wait > 50_000 && wait <= 60_000, `cools down for about 60 s, not ${wait} ms`);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a streamed upload of unknown length is not held back to be replayed", async () => {
  const upstream = await startKeyedUpstream();
  const gw = await startGateway(config(upstream.url), { KEY_A: "sk-revoked", KEY_B: "sk-good" });
  try {
    const body = ReadableStream.from([new TextEncoder().encode("chunk")]);
    const response = await fetch(`${gw.url}/api/v1/upload`, {
      method: "POST",
      body,
      // @ts-ignore: duplex is needed for a streamed request body
      duplex: "half",
    });
    assert.equal(
      response.status,
      401,
      "the refusal passes through: the stream cannot be sent twice",
    );
    await response.body?.cancel();
    const next = await fetch(`${gw.url}/api/v1/models`);
    assert.equal(next.status, 200, "and the next request goes to the good key");
    await next.body?.cancel();
  } finally {
    await gw.close();
    await upstream.close();
  }
});
