/**
 * Client tokens minted by the app: each claim narrows the route, and a token it does not
 * allow is refused before anything reaches the upstream. Tokens come from `mintToken` (the
 * library export), or are signed by hand with jose where the test needs one the app could
 * never mint (an unknown claim, an expired one).
 *
 * @module
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { type MintOptions, mintToken } from "../mod.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

const SECRET = "test-secret-of-at-least-32-characters";
const ENV = { OPENAI_API_KEY: "sk-server", SECRET };
const APP = "https://app.example";

function config(upstream: string, extra = ""): string {
  return `server:
  cors: { origins: ["${APP}", "https://other.example"] }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}
    auth: { jwt: { secret: "\${SECRET}" } }
    body: { models: [gpt-4o-mini, gpt-4o], max_tokens: 1000 }
${extra}
  - name: other
    path: /other
    preset: openai
    upstream: ${upstream}
    auth: { jwt: { secret: "\${SECRET}" } }
`;
}

const mint = (options: Omit<MintOptions, "secret" | "subject"> & { subject?: string }) =>
  mintToken({ secret: SECRET, subject: "user-42", expiresIn: "5m", ...options });

function chat(
  gateway: TestGateway,
  token: string,
  init: { model?: string; origin?: string; route?: string; content?: string } = {},
) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    authorization: `Bearer ${token}`,
  };
  if (init.origin) headers.origin = init.origin;
  const body: Record<string, unknown> = {
    messages: [{ role: "user", content: init.content ?? "hi" }],
  };
  if (init.model !== null) body.model = init.model ?? "gpt-4o-mini";
  return fetch(`${gateway.url}/${init.route ?? "openai"}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
}

async function status(response: Promise<Response>): Promise<number> {
  const r = await response;
  await r.body?.cancel();
  return r.status;
}

async function withGateway(
  fn: (gateway: TestGateway, mock: MockUpstream) => Promise<void>,
  extra = "",
) {
  const mock = await startMockUpstream();
  const gateway = await startGateway(config(mock.url, extra), ENV);
  try {
    await fn(gateway, mock);
  } finally {
    await gateway.close();
    await mock.close();
  }
}

Deno.test("client token: a plain minted token passes as its subject; a forged, expired or never-expiring one gets 401", async () => {
  await withGateway(async (gateway, mock) => {
    assert.equal(await status(chat(gateway, await mint({}))), 200);
    assert.equal(gateway.logs.at(-1)?.client, "user-42");
    assert.equal(mock.requests.length, 1);
    assert.ok(!mock.requests[0].headers.authorization?.includes("eyJ"), "the token stays here");

    const forged = await mintToken({
      secret: "another-secret-of-at-least-32-characters",
      subject: "user-42",
    });
    const expired = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
      .setSubject("user-42").setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    // Signed with the route's secret by hand, with no exp: good forever if it were taken.
    const endless = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
      .setSubject("user-42").sign(new TextEncoder().encode(SECRET));
    assert.equal(await status(chat(gateway, forged)), 401, "forged");
    assert.equal(await status(chat(gateway, expired)), 401, "expired");
    assert.equal(await status(chat(gateway, endless)), 401, "no exp");
    assert.equal(mock.requests.length, 1, "nothing reached the upstream");
  });
});

Deno.test("client token: a claim the gateway does not understand is refused, not ignored", async () => {
  await withGateway(async (gateway, mock) => {
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("user-42")
        .setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
    for (
      const claims of [
        { admin: true },
        { routes: ["openai"], scope: "all" },
        { limits: { tokens: "100/day", dollars: 5 } },
        { limits: { tokens: "lots" } },
        { routes: "openai" },
        { models: [] },
        { once: "yes" },
        { once: true }, // a single-use token without an id cannot be remembered
      ]
    ) {
      assert.equal(await status(chat(gateway, await sign(claims))), 401, JSON.stringify(claims));
    }
    assert.equal(mock.requests.length, 0);
    // The claims the gateway knows pass.
    const known = await sign({ routes: ["openai"], models: ["gpt-4o-mini"], jti: "j1" });
    assert.equal(await status(chat(gateway, known)), 200);
  });
});

Deno.test("client token: routes, models and origin narrow the route, and never widen it", async () => {
  await withGateway(async (gateway, mock) => {
    const forOpenai = await mint({ routes: ["openai"] });
    assert.equal(await status(chat(gateway, forOpenai, { route: "other" })), 403);
    assert.equal(await status(chat(gateway, forOpenai)), 200);

    const mini = await mint({ models: ["gpt-4o-mini"] });
    assert.equal(await status(chat(gateway, mini, { model: "gpt-4o" })), 403);
    // No model at all: the route's own rule answers first (400).
    assert.equal(await status(chat(gateway, mini, { model: null as unknown as string })), 400);
    assert.equal(await status(chat(gateway, mini, { model: "gpt-4o-mini" })), 200);
    // A model the token names but the route does not allow stays refused.
    // On a route with no model rules of its own, the token's models still hold.
    assert.equal(await status(chat(gateway, mini, { route: "other", model: "gpt-4o" })), 403);
    assert.equal(await status(chat(gateway, mini, { route: "other" })), 200);
    const wider = await mint({ models: ["o1"] });
    assert.equal(await status(chat(gateway, wider, { model: "o1" })), 403);

    const app = await mint({ origin: APP });
    assert.equal(await status(chat(gateway, app)), 403, "no Origin");
    assert.equal(await status(chat(gateway, app, { origin: "https://other.example" })), 403);
    assert.equal(await status(chat(gateway, app, { origin: APP })), 200);
    assert.equal(mock.requests.length, 4, "only the allowed requests reached the upstream");
  });
});

Deno.test("client token: a once token serves one request, and one of ten concurrent uses", async () => {
  await withGateway(async (gateway, mock) => {
    const once = await mint({ once: true });
    assert.equal(await status(chat(gateway, once)), 200);
    const again = await chat(gateway, once);
    assert.equal(again.status, 401);
    assert.match((await again.json()).error.message, /one request/);

    const shared = await mint({ once: true });
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => status(chat(gateway, shared))),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 401).length, 9);
    assert.equal(mock.requests.length, 2);
    // A once token refused for its model is not spent.
    const picky = await mint({ once: true, models: ["gpt-4o-mini"] });
    assert.equal(await status(chat(gateway, picky, { model: "gpt-4o" })), 403);
    assert.equal(await status(chat(gateway, picky)), 200);
  });
});

Deno.test("client token: limits per subject hold across the subject's tokens", async () => {
  await withGateway(async (gateway, mock) => {
    const a = await mint({ subject: "sam", limits: { requests: "2/min" } });
    const b = await mint({ subject: "sam", limits: { requests: "2/min" } });
    assert.equal(await status(chat(gateway, a)), 200);
    assert.equal(await status(chat(gateway, b)), 200);
    const third = await chat(gateway, a);
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get("retry-after")) >= 1);
    await third.body?.cancel();
    assert.equal(mock.requests.length, 2);

    // tokens: each request reserves its body bytes + the route's clamp of 1000; the answer
    // reports 10, so the reservation settles and the next fits; a prompt past what is left
    // does not.
    const budget = await mint({ subject: "tia", limits: { tokens: "1500/hour" } });
    for (let i = 0; i < 3; i++) {
      assert.equal(await status(chat(gateway, budget)), 200, `request ${i + 1}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const large = await chat(gateway, budget, { content: "x".repeat(600) });
    assert.equal(large.status, 429);
    assert.match((await large.json()).error.message, /Token budget of 1500/);
    assert.equal(mock.requests.length, 5);
  });
});

Deno.test("client token: limits.concurrent counts the subject's requests in flight", async () => {
  const release = Promise.withResolvers<void>();
  let arrived = 0;
  const upstream = await serveLoopback(async () => {
    arrived++;
    await Promise.race([release.promise, new Promise((r) => setTimeout(r, 2_000))]);
    return Response.json({ choices: [], usage: { total_tokens: 1 } });
  });
  const gateway = await startGateway(config(upstream.url), ENV);
  try {
    const token = await mint({ limits: { concurrent: 1 } });
    const first = chat(gateway, token);
    while (arrived === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await status(chat(gateway, token)), 429);
    release.resolve();
    assert.equal(await status(first), 200);
    assert.equal(await status(chat(gateway, token)), 200);
    assert.equal(arrived, 2);
  } finally {
    release.resolve();
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("mintToken refuses options no gateway would accept", async () => {
  await assert.rejects(mintToken({ secret: "short", subject: "a" }), /32 characters/);
  await assert.rejects(mint({ limits: { tokens: "lots" } }), /Cannot parse rate/);
  await assert.rejects(mint({ origin: "https://app.example/path" }), /not an origin/);
  await assert.rejects(mint({ routes: [] }), /non-empty/);
  await assert.rejects(mint({ expiresIn: "soon" }), /Cannot parse duration/);
});

Deno.test("keyward token prints a token the route accepts, with the secret from KEYWARD_TOKEN_SECRET", async () => {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const run = (args: string[], env: Record<string, string>) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "token", ...args],
      env: { ...env, NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const args = ["--sub", "cli-user", "--ttl", "1m", "--route", "openai", "--once"];
  const missing = await run(args, {});
  assert.equal(missing.code, 2);
  assert.match(new TextDecoder().decode(missing.stderr), /KEYWARD_TOKEN_SECRET/);
  const out = await run(args, { KEYWARD_TOKEN_SECRET: SECRET });
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const token = new TextDecoder().decode(out.stdout).trim();
  await withGateway(async (gateway) => {
    assert.equal(await status(chat(gateway, token, { route: "other" })), 403);
    assert.equal(await status(chat(gateway, token)), 200);
    assert.equal(gateway.logs.at(-1)?.client, "cli-user");
    assert.equal(await status(chat(gateway, token)), 401, "used once");
  });
});

Deno.test("client token: a JWKS issuer's token carries claims of its own, and its narrowing claims hold", async () => {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
  const issuer = await serveLoopback(() => Response.json({ keys: [jwk] }));
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: { jwt: { jwks: "${issuer.url}/jwks.json" } }
`,
    ENV,
  );
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("idp-user")
      .setExpirationTime("5m").sign(privateKey);
  try {
    // An identity provider's own claims (email, roles) do not refuse its tokens.
    assert.equal(await status(chat(gateway, await sign({ email: "a@b.example" }))), 200);
    const narrowed = await sign({ email: "a@b.example", models: ["gpt-4o-mini"] });
    assert.equal(await status(chat(gateway, narrowed, { model: "gpt-4o" })), 403);
    assert.equal(await status(chat(gateway, narrowed)), 200);
    assert.equal(mock.requests.length, 2);
  } finally {
    await gateway.close();
    await mock.close();
    await issuer.close();
  }
});

Deno.test("client token: a models claim reads a chunked body the route caps", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: { jwt: { secret: "\${SECRET}" } }
    limits: { body: 4kb }
`,
    ENV,
  );
  const chunked = (token: string, model: string) =>
    fetch(`${gateway.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: new Blob([JSON.stringify({ model, messages: [] })]).stream(),
      // @ts-ignore: a streamed upload
      duplex: "half",
    });
  try {
    const mini = await mint({ models: ["gpt-4o-mini"] });
    assert.equal(await status(chunked(mini, "gpt-4o")), 403);
    assert.equal(await status(chunked(mini, "gpt-4o-mini")), 200);
    assert.equal(JSON.parse(mock.requests[0].body).model, "gpt-4o-mini");
    assert.equal(mock.requests.length, 1);
  } finally {
    await gateway.close();
    await mock.close();
  }
});
