/**
 * Client auth against real servers: tokens, JWTs signed here (HS256 and a rotating JWKS), and
 * a forward-auth session endpoint. A refused request never reaches the upstream, and the
 * client's credentials never do either.
 *
 * @module
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

const CHAT = "/v1/chat/completions";
const chat = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/openai${CHAT}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }),
  });

function route(auth: string, upstream: string): string {
  return `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
    auth: ${auth}
`;
}

Deno.test("auth: token — bearer or x-api-key names the client; others get 401 and the upstream sees nothing", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `clients:
  - { id: alice, token: alice-token-1 }
  - { id: bob, token_sha256: "${await sha256Hex("bob-token-2")}" }
` + route("token", mock.url),
    { OPENAI_API_KEY: "sk-server" },
  );
  try {
    const missing = await chat(gateway.url);
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).error.type, "unauthorized");
    assert.equal(missing.headers.get("www-authenticate"), "Bearer");
    const wrong = await chat(gateway.url, { authorization: "Bearer alice-token-2" });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    assert.equal(mock.requests.length, 0);

    const alice = await chat(gateway.url, { authorization: "Bearer alice-token-1" });
    assert.equal(alice.status, 200);
    await alice.body?.cancel();
    const bob = await chat(gateway.url, { "x-api-key": "bob-token-2" });
    assert.equal(bob.status, 200);
    await bob.body?.cancel();
    assert.equal(mock.requests.length, 2);
    for (const seen of mock.requests) {
      assert.equal(seen.headers.authorization, "Bearer sk-server");
      assert.equal(seen.headers["x-api-key"], undefined);
    }
    await waitFor(() => gateway.logs.length === 4);
    assert.deepEqual(gateway.logs.map((l) => l.client), [undefined, undefined, "alice", "bob"]);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("auth: jwt (HS256) — good passes as its sub; expired, no exp, wrong issuer or audience, wrong key get 401", async () => {
  const mock = await startMockUpstream();
  const secret = "a-shared-secret-of-at-least-32-bytes!";
  const gateway = await startGateway(
    route(
      `{ jwt: { secret: "${secret}", issuer: https://issuer.test, audience: my-app } }`,
      mock.url,
    ),
    { OPENAI_API_KEY: "sk-server" },
  );
  /** Signs a token; `null` leaves a claim out. */
  const sign = (
    key: string,
    claims: { aud?: string; exp?: string | number | null; nbf?: string; iss?: string | null },
  ) => {
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user-42")
      .setAudience(claims.aud ?? "my-app")
      .setIssuedAt();
    if (claims.iss !== null) jwt.setIssuer(claims.iss ?? "https://issuer.test");
    if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? "5m");
    if (claims.nbf) jwt.setNotBefore(claims.nbf);
    return jwt.sign(new TextEncoder().encode(key));
  };
  try {
    const good = await chat(gateway.url, { authorization: `Bearer ${await sign(secret, {})}` });
    assert.equal(good.status, 200);
    await good.body?.cancel();
    const refused: [string, string][] = [
      ["expired", await sign(secret, { exp: Math.floor(Date.now() / 1000) - 60 })],
      ["wrong audience", await sign(secret, { aud: "another-app" })],
      ["wrong key", await sign("another-secret-of-at-least-32-bytes!!", {})],
      ["not yet valid", await sign(secret, { nbf: "10m" })],
      ["not a JWT", "not-a-jwt"],
      // Signed with the right secret, but a token that never expires is never accepted.
      ["no exp", await sign(secret, { exp: null })],
      // The right secret, but not from the configured issuer (or from no issuer at all).
      ["wrong issuer", await sign(secret, { iss: "https://another-issuer.test" })],
      ["no issuer", await sign(secret, { iss: null })],
    ];
    for (const [what, token] of refused) {
      const response = await chat(gateway.url, { authorization: `Bearer ${token}` });
      assert.equal(response.status, 401, `${what}: ${response.status}`);
      assert.equal((await response.json()).error.type, "unauthorized");
    }
    // A token refused once is refused again (nothing about it was remembered as good).
    const again = await chat(gateway.url, {
      authorization: `Bearer ${await sign(secret, { exp: null })}`,
    });
    assert.equal(again.status, 401);
    await again.body?.cancel();
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-server");
    await waitFor(() => gateway.logs.length === 10);
    assert.equal(gateway.logs[0].client, "user-42");
    assert.equal(gateway.logs[1].error, "jwt_refused");
    assert.match(String(gateway.logs[1].detail), /ERR_JWT_EXPIRED/);
    assert.equal(gateway.logs[2].error, "jwt_refused");
    assert.match(String(gateway.logs[2].detail), /ERR_JWT_CLAIM_VALIDATION_FAILED/);
    for (const refusal of gateway.logs.slice(1)) assert.equal(refusal.client, undefined);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("auth: jwt (JWKS) — keys are fetched once, cached, and a rotated key is picked up", async () => {
  const mock = await startMockUpstream();
  const first = await generateKeyPair("RS256");
  const second = await generateKeyPair("RS256");
  const published = [{ ...(await exportJWK(first.publicKey)), kid: "k1", alg: "RS256" }];
  let fetches = 0;
  const jwks = await serveLoopback(() => {
    fetches++;
    return Response.json({ keys: published });
  });
  const gateway = await startGateway(
    route(`{ jwt: { jwks: "${jwks.url}/jwks.json", audience: my-app } }`, mock.url),
    { OPENAI_API_KEY: "sk-server" },
  );
  const sign = (key: CryptoKey, kid: string) =>
    new SignJWT({}).setProtectedHeader({ alg: "RS256", kid }).setSubject(`sub-${kid}`)
      .setAudience("my-app").setExpirationTime("5m").sign(key);
  try {
    for (let i = 0; i < 3; i++) {
      const response = await chat(gateway.url, {
        authorization: `Bearer ${await sign(first.privateKey, "k1")}`,
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    assert.equal(fetches, 1, "the key set is cached");
    // The issuer rotates: a token signed with a new kid makes the gateway fetch the set again
    // (once the 2 s cool-down since the last fetch has passed).
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    published.push({ ...(await exportJWK(second.publicKey)), kid: "k2", alg: "RS256" });
    const rotated = await chat(gateway.url, {
      authorization: `Bearer ${await sign(second.privateKey, "k2")}`,
    });
    assert.equal(rotated.status, 200);
    await rotated.body?.cancel();
    assert.equal(fetches, 2);
    const forged = await chat(gateway.url, {
      authorization: `Bearer ${await sign(second.privateKey, "k1")}`,
    });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();
    // The issuer's own key, but a token that never expires.
    const endless = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "k2" })
      .setSubject("sub-k2").setAudience("my-app").sign(second.privateKey);
    const noExp = await chat(gateway.url, { authorization: `Bearer ${endless}` });
    assert.equal(noExp.status, 401);
    await noExp.body?.cancel();
    assert.equal(mock.requests.length, 4, "only the good tokens reached the upstream");
    await waitFor(() => gateway.logs.length === 6);
    assert.equal(gateway.logs[3].client, "sub-k2");
  } finally {
    await gateway.close();
    await jwks.close();
    await mock.close();
  }
});

Deno.test("auth: forward — the session endpoint allows, denies and names the client; answers are cached", async () => {
  const mock = await startMockUpstream();
  const seen: { cookie: string | null; uri: string | null }[] = [];
  const session = await serveLoopback((request) => {
    const cookie = request.headers.get("cookie");
    seen.push({ cookie, uri: request.headers.get("x-original-uri") });
    if (cookie === "session=good") return new Response(null, { headers: { "x-user-id": "carol" } });
    if (cookie === "session=banned") return new Response(null, { status: 403 });
    if (cookie === "session=broken") return new Response("oops", { status: 500 });
    return new Response(null, { status: 401 });
  });
  const gateway = await startGateway(
    route(
      `{ forward: { url: "${session.url}/api/session", client_header: x-user-id, cache: 30s } }`,
      mock.url,
    ),
    { OPENAI_API_KEY: "sk-server" },
  );
  try {
    for (let i = 0; i < 3; i++) {
      const ok = await chat(gateway.url, { cookie: "session=good" });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    }
    assert.equal(seen.filter((s) => s.cookie === "session=good").length, 1, "cached for 30 s");
    assert.equal(seen[0].uri, `/openai${CHAT}`);
    const statuses: number[] = [];
    for (const cookie of ["session=bad", "session=banned", "session=broken"]) {
      const response = await chat(gateway.url, { cookie });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [401, 403, 502]);
    assert.equal(mock.requests.length, 3);
    for (const request of mock.requests) assert.equal(request.headers.cookie, undefined);
    await waitFor(() => gateway.logs.length === 6);
    assert.equal(gateway.logs[0].client, "carol");
  } finally {
    await gateway.close();
    await session.close();
    await mock.close();
  }
});

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function waitFor(condition: () => boolean, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
