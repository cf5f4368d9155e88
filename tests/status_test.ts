/**
 * The status page (`server.status`): routes with their upstreams and allow lists, key pool
 * health by digest, requests, errors and tokens per route read from the shared store (two
 * gateways on one Redis show the same), the queue, and each client's usage for the admin
 * token only; HTML to a browser, JSON otherwise; never a key or any piece of one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { sha256 } from "../src/auth/sha256.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { startRedis } from "./helpers/redis.ts";

const KEYS = {
  KEY_A: "sk-Q7xV9pLm2Rt8Wz4Kd1Ys",
  KEY_B: "sk-J3nH6bGf5Cq0Xe7Tu2Ma",
  INFERENCE_API_KEY: "inf-Zk8Pw3Rv6Ny1Lh4Qs9Dc",
  ALICE_TOKEN: "tk-Aq4Wm7Ez2Rx5Tc8Yv1Ub",
  BOB_TOKEN: "tk-Bn6Hj9Kl3Gf0Ds5Pa2Oi",
};
const ADMIN_TOKEN = "adm-Vc3Xz8Lk1Jh6Gf4Dq7We";
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function config(upstream: string, host: string, redis: string) {
  return `server:
  status: /keyward/status
  admin: { token_sha256: "${hex(sha256(ADMIN_TOKEN))}" }
store: { kind: redis, url: "${redis}" }
clients:
  - { id: alice, token: "\${ALICE_TOKEN}", limits: { requests: 3/hour } }
  - { id: bob, token: "\${BOB_TOKEN}" }
routes:
  - name: chat
    path: /openai
    preset: openai
    upstream: ${upstream}
    key: { pool: [{ env: KEY_A }, { env: KEY_B }] }
    auth: token
    limits: { requests: 10/hour, tokens: 1000/day }
  - name: inference
    path: /api/inference/proxy
    target: { header: x-inf-target-url, hosts: ["${host}"] }
    key: { env: INFERENCE_API_KEY }
    allow: ["POST /apps/run"]
  - name: unset
    path: /unset
    upstream: ${upstream}
    key: { env: NOT_SET_KEY }
    allow: ["GET /**"]
`;
}

/** Every run of 6 characters of every secret (none is a word): none may appear anywhere. */
function assertNoKeyPiece(text: string) {
  for (const secret of [...Object.values(KEYS), ADMIN_TOKEN]) {
    for (let i = 0; i + 6 <= secret.length; i++) {
      const piece = secret.slice(i, i + 6);
      assert.equal(text.includes(piece), false, `a piece of a secret (${piece}) appears`);
    }
  }
}

async function call(gw: TestGateway, path: string, init?: RequestInit): Promise<number> {
  const response = await fetch(gw.url + path, init);
  await response.body?.cancel();
  return response.status;
}

async function statusJson(gw: TestGateway, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`${gw.url}/keyward/status`, { headers });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const text = await response.text();
  assertNoKeyPiece(text);
  return JSON.parse(text);
}

Deno.test("status page: routes, key health, per-route traffic from the shared store, and client usage for the admin", async () => {
  const mock = await startMockUpstream();
  const redis = await startRedis();
  const yaml = config(mock.url, mock.host, redis.url);
  const one = await startGateway(yaml, KEYS);
  const two = await startGateway(yaml, KEYS);
  try {
    // Traffic on the first instance: two answered chats (10 tokens each), one refused path,
    // and alice past her own limit of 3 requests an hour.
    const request = (token: string) => ({
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(await call(one, "/openai/v1/chat/completions", request(KEYS.BOB_TOKEN)), 200);
    assert.equal(await call(one, "/openai/v1/chat/completions", request(KEYS.ALICE_TOKEN)), 200);
    assert.equal(await call(one, "/openai/v1/files", request(KEYS.BOB_TOKEN)), 403);
    assert.equal(await call(one, "/openai/v1/chat/completions", request(KEYS.ALICE_TOKEN)), 200);
    assert.equal(await call(one, "/openai/v1/chat/completions", request(KEYS.ALICE_TOKEN)), 200);
    assert.equal(await call(one, "/openai/v1/chat/completions", request(KEYS.ALICE_TOKEN)), 429);
    assert.equal(await call(one, "/unset/x"), 503);
    // Reading the page writes this instance's counts first.
    const first = await statusJson(one);
    // The second instance served none of it, and shows the same: the counts are in Redis.
    const report = await statusJson(two);
    assert.deepEqual(
      report.routes.map((r: { stats: unknown }) => r.stats),
      first.routes.map((r: { stats: unknown }) => r.stats),
    );

    assert.ok(report.uptime_s >= 0 && Date.parse(report.started) <= Date.now());
    const [chatRoute, inference, unset] = report.routes;
    assert.equal(chatRoute.route, "chat");
    assert.equal(chatRoute.mode, "path");
    assert.equal(chatRoute.upstream, mock.host);
    assert.ok(chatRoute.allow.includes("POST /v1/chat/completions"));
    assert.deepEqual(chatRoute.limits, { requests: "10/hour", tokens: "1000/day" });
    assert.deepEqual(chatRoute.keys.map((k: { origin: string }) => k.origin), [
      "env:KEY_A",
      "env:KEY_B",
    ]);
    for (const key of chatRoute.keys) {
      assert.match(key.id, /^[0-9a-f]{8}$/);
      assert.equal(key.state, "healthy");
    }
    assert.notEqual(chatRoute.keys[0].id, chatRoute.keys[1].id, "the digest tells keys apart");
    assert.deepEqual(chatRoute.queue, { length: 0, expected_wait_ms: 0 });
    assert.deepEqual(chatRoute.stats.hour.total, {
      requests: 6,
      errors: 2,
      tokens: 40,
      spend_usd: 0,
    });
    assert.deepEqual(chatRoute.stats.day.total, {
      requests: 6,
      errors: 2,
      tokens: 40,
      spend_usd: 0,
    });
    assert.equal(chatRoute.stats.hour.points.length, 12);
    assert.equal(chatRoute.stats.day.points.length, 24);
    assert.deepEqual(chatRoute.stats.hour.points.at(-1), {
      requests: 6,
      errors: 2,
      tokens: 40,
      spend_usd: 0,
    });

    assert.equal(inference.mode, "target");
    assert.deepEqual(inference.hosts, [mock.host]);
    assert.deepEqual(inference.allow, ["POST /apps/run"]);
    assert.equal(unset.keys_missing, 1);
    assert.deepEqual(unset.stats.hour.total, { requests: 1, errors: 1, tokens: 0, spend_usd: 0 });
    assert.equal(report.clients, undefined, "no client usage without the admin token");

    // A client's own token is not the admin token.
    assert.equal((await statusJson(two, KEYS.ALICE_TOKEN)).clients, undefined);
    const admin = await statusJson(two, ADMIN_TOKEN);
    const usage = Object.fromEntries(
      admin.clients.map((c: { id: string; routes: unknown[] }) => [c.id, c.routes]),
    );
    assert.deepEqual(usage.alice[0].route, "chat");
    assert.deepEqual(
      { ...usage.alice[0].requests, reset_s: 0 },
      { used: 4, limit: 3, remaining: 0, reset_s: 0, window: "3/hour" },
    );
    assert.deepEqual(
      { ...usage.alice[0].tokens, reset_s: 0 },
      { used: 30, limit: 1000, remaining: 970, reset_s: 0, window: "1000/day" },
    );
    assert.deepEqual(usage.bob[0].requests.used, 1, "the refused path never reached the limits");
    assert.deepEqual(usage.bob[0].tokens.used, 10);

    // A browser gets the page: charts as inline SVG, locked down, nothing from elsewhere.
    const page = await fetch(`${two.url}/keyward/status`, {
      headers: {
        accept: "text/html,application/xhtml+xml",
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
    });
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const html = await page.text();
    assertNoKeyPiece(html);
    assert.equal((html.match(/<svg /g) ?? []).length, 3 * 4, "four charts per route");
    assert.match(html, /6 requests, 2 errors/);
    assert.match(html, /data-admin="true"/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "no outside URL");
  } finally {
    await one.close();
    await two.close();
    await redis.stop();
    await mock.close();
  }
});
