/**
 * Visitors without accounts, end to end through a real gateway and a provider mock, with
 * clients on other address prefixes (Node's http bound to 127.0.1.x) and programs that solve
 * in this process: challenges and tokens, and every way a farmer would try to get around them
 * (replayed and forged solutions, tokens carried to another network or page, forged and
 * expired tokens), `per_address`, adaptive difficulty, limits per visitor and for all of them
 * together, Turnstile against a loopback siteverify, and the once-only records and counts on
 * a Redis and a Deno KV file shared by two instances. The browser side is in
 * visitors_browser_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { checkConfig } from "../src/check.ts";
import { ConfigError, loadConfigText } from "../src/config/load.ts";
import { loadArgon2id } from "../src/visitors/argon2.ts";
import { ARGON2_WASM_BASE64 } from "../src/visitors/assets.ts";
import { visitorKeys } from "../src/visitors/keys.ts";
import { solves } from "../src/visitors/puzzle.ts";
import { VisitorTokens } from "../src/visitors/visitor_token.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { startProviderMock } from "./helpers/provider_mock.ts";
import { startRedis } from "./helpers/redis.ts";
import {
  earnToken,
  forge,
  send,
  startSiteverify,
  TURNSTILE,
  visitorIdOf,
} from "./helpers/visitors.ts";

const SECRET = "visitor-secret-Tq8Wm3Zr6Lp1Xc4Vb7Nd";
const ENV = { KEYWARD_VISITOR_SECRET: SECRET, OPENAI_API_KEY: "sk-provider-Hq7Lp2Wx9Zr4" };
/** Another /24 of this machine. */
const ELSEWHERE = "127.0.1.5";
const APP = "http://app.test";
const OTHER = "http://other.test";

function config(upstream: string, visitors: string, route = "", server = ""): string {
  return `server:
  cors: { origins: ["${APP}", "${OTHER}"] }
  visitors:
    secret: \${KEYWARD_VISITOR_SECRET}
${visitors.replace(/^/gm, "    ")}
${server}store: { kind: memory }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}/openai
    auth: visitor
${route.replace(/^/gm, "    ")}
`;
}

const CHAT = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

function chat(
  gateway: TestGateway,
  token: string,
  options: { from?: string; origin?: string } = {},
) {
  return send(`${gateway.url}/openai/v1/chat/completions`, {
    method: "POST",
    from: options.from,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.origin ? { origin: options.origin } : {}),
    },
    body: CHAT,
  });
}

Deno.test("visitors: a solved challenge earns a token; replays, forgeries and tokens carried elsewhere are refused before the upstream", async (t) => {
  const mock = await startProviderMock();
  const gateway = await startGateway(
    config(
      mock.url,
      "proof_of_work: { seconds: 0.05 }\nper_address: 100/hour",
      "",
      "  metrics: /metrics\n",
    ),
    ENV,
  );
  const upstreamCalls = () => mock.requests.length;
  try {
    let earned!: Awaited<ReturnType<typeof earnToken>>;

    await t.step("a challenge, its solution, a token that calls the route", async () => {
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`);
      assert.equal(issued.status, 200);
      assert.deepEqual(Object.keys(issued.json).sort(), [
        "algorithm",
        "challenge",
        "difficulty",
        "expires",
        "params",
      ]);
      assert.equal(issued.json.algorithm, "argon2id");
      assert.equal(issued.json.difficulty, 75); // 0.05 s × 1500 attempts a second
      const life = issued.json.expires - Date.now() / 1000;
      assert.ok(life > 290 && life <= 300, `a challenge lives ${life} s`);
      assert.deepEqual(issued.json.params, { m: 1024, t: 1, p: 1 });
      assert.equal(issued.headers["cache-control"], "no-store");

      earned = await earnToken(gateway.url);
      assert.ok(earned.expires - Date.now() / 1000 > 3590, "a token lives an hour by default");
      const answer = await chat(gateway, earned.token);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.choices[0].message.content, "Hello from the mock");
      // The provider sees the key, never the visitor's token.
      assert.equal(mock.requests.at(-1)?.headers.authorization, `Bearer ${ENV.OPENAI_API_KEY}`);
      const record = gateway.logs.find((r) => r.path === "/openai/v1/chat/completions");
      assert.equal(record?.client, visitorIdOf(earned.token));
      const earning = gateway.logs.find((r) => r.path === "/keyward/visitor/token");
      assert.equal(earning?.client, visitorIdOf(earned.token), "the earning is logged");
      assert.match(record?.client ?? "", /^v_[\w-]{22}$/);
    });

    await t.step("a solution sent twice earns one token", async () => {
      const again = await send(`${gateway.url}/keyward/visitor/token`, {
        method: "POST",
        body: JSON.stringify({ challenge: earned.challenge, nonce: earned.nonce }),
      });
      assert.equal(again.status, 400);
      assert.match(again.json.error.message, /answered before/);
    });

    await t.step("a wrong nonce is refused and spends the challenge", async () => {
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`);
      const { challenge, difficulty } = issued.json;
      const argon2 = await loadArgon2id();
      let wrong = 0;
      while (solves(argon2, challenge, String(wrong), difficulty, 1024, 1)) wrong++;
      let right = 0;
      while (!solves(argon2, challenge, String(right), difficulty, 1024, 1)) right++;
      const post = (nonce: number) =>
        send(`${gateway.url}/keyward/visitor/token`, {
          method: "POST",
          body: JSON.stringify({ challenge, nonce: String(nonce) }),
        });
      const refused = await post(wrong);
      assert.equal(refused.status, 400);
      assert.match(refused.json.error.message, /does not solve/);
      // One hash per challenge, right or wrong: the right answer now comes too late.
      const late = await post(right);
      assert.equal(late.status, 400);
      assert.match(late.json.error.message, /answered before/);
    });

    await t.step("forged challenges are refused", async () => {
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`);
      const challenge = issued.json.challenge as string;
      const easier = forge(challenge, { d: 1 }); // difficulty 1: every nonce solves
      const none = `${btoa('{"alg":"none","typ":"kw-pow"}').replace(/=+$/, "")}.${
        challenge.split(".")[1]
      }.`;
      const token = forge(earned.token, {}); // a visitor token is no challenge
      for (const forged of [easier, none, token]) {
        const answer = await send(`${gateway.url}/keyward/visitor/token`, {
          method: "POST",
          body: JSON.stringify({ challenge: forged, nonce: "0" }),
        });
        assert.equal(answer.status, 400, answer.text);
        assert.match(answer.json.error.message, /not issued by this gateway/);
      }
    });

    await t.step("a challenge answered from another /24 is refused", async () => {
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`);
      const { challenge, difficulty } = issued.json;
      const argon2 = await loadArgon2id();
      let nonce = 0;
      while (!solves(argon2, challenge, String(nonce), difficulty, 1024, 1)) nonce++;
      const answer = await send(`${gateway.url}/keyward/visitor/token`, {
        method: "POST",
        from: ELSEWHERE,
        body: JSON.stringify({ challenge, nonce: String(nonce) }),
      });
      assert.equal(answer.status, 403);
      assert.match(answer.json.error.message, /another network/);
    });

    await t.step("a challenge a page was given is refused from another page", async () => {
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`, {
        headers: { origin: APP },
      });
      const { challenge, difficulty } = issued.json;
      const argon2 = await loadArgon2id();
      let nonce = 0;
      while (!solves(argon2, challenge, String(nonce), difficulty, 1024, 1)) nonce++;
      const answer = await send(`${gateway.url}/keyward/visitor/token`, {
        method: "POST",
        headers: { origin: OTHER },
        body: JSON.stringify({ challenge, nonce: String(nonce) }),
      });
      assert.equal(answer.status, 403);
      assert.match(answer.json.error.message, /another origin/);
    });

    await t.step(
      "a token carried to another /24 is 403, and nothing reaches the upstream",
      async () => {
        const before = upstreamCalls();
        const elsewhere = await chat(gateway, earned.token, { from: ELSEWHERE });
        assert.equal(elsewhere.status, 403, elsewhere.text);
        assert.match(elsewhere.json.error.message, /another network/);
        assert.equal(elsewhere.headers["x-keyward-visitor"], "renew");
        // Another address of the same /24 is the same network.
        assert.equal((await chat(gateway, earned.token, { from: "127.0.0.77" })).status, 200);
        assert.equal(upstreamCalls(), before + 1);
      },
    );

    await t.step("a token earned by one page is 403 from another page", async () => {
      const page = await earnToken(gateway.url, { origin: APP });
      const before = upstreamCalls();
      assert.equal((await chat(gateway, page.token, { origin: APP })).status, 200);
      const other = await chat(gateway, page.token, { origin: OTHER });
      assert.equal(other.status, 403);
      assert.match(other.json.error.message, /another origin/);
      // A token a program earned (no Origin) is not a page's either.
      assert.equal((await chat(gateway, earned.token, { origin: APP })).status, 403);
      assert.equal(upstreamCalls(), before + 1);
    });

    await t.step("forged and expired tokens are 401", async () => {
      const before = upstreamCalls();
      const past = new VisitorTokens(visitorKeys(SECRET));
      const expired = await past.mint(
        "v_old",
        "127.0.0.0/24",
        undefined,
        60_000,
        Date.now() - 120_000,
      );
      const otherSecret = await new VisitorTokens(visitorKeys("x".repeat(32)))
        .mint("v_x", "127.0.0.0/24", undefined, 3_600_000);
      const cases = [
        forge(earned.token, { sub: "v_someone_else" }),
        forge(earned.token, { pfx: "127.0.1.0/24" }),
        `${btoa('{"alg":"none","typ":"JWT"}').replace(/=+$/, "")}.${earned.token.split(".")[1]}.`,
        otherSecret.token,
        expired.token,
        "not-a-token",
      ];
      for (const token of cases) {
        const answer = await chat(gateway, token);
        assert.equal(answer.status, 401, `${token}: ${answer.text}`);
        assert.equal(answer.json.error.type, "unauthorized");
      }
      const last = await chat(gateway, expired.token);
      assert.match(last.json.error.message, /expired/);
      assert.equal(last.headers["x-keyward-visitor"], "renew");
      const missing = await send(`${gateway.url}/openai/v1/chat/completions`, {
        method: "POST",
        body: CHAT,
      });
      assert.equal(missing.status, 401);
      assert.equal(upstreamCalls(), before);
    });

    await t.step(
      "renewing keeps the visitor id; from elsewhere or once expired it does not",
      async () => {
        const renewed = await earnToken(gateway.url, { previous: earned.token });
        assert.equal(visitorIdOf(renewed.token), visitorIdOf(earned.token));
        const moved = await earnToken(gateway.url, { from: ELSEWHERE, previous: earned.token });
        assert.notEqual(visitorIdOf(moved.token), visitorIdOf(earned.token));
        const past = new VisitorTokens(visitorKeys(SECRET));
        const expired = await past.mint(
          "v_old",
          "127.0.0.0/24",
          undefined,
          60_000,
          Date.now() - 120_000,
        );
        const fresh = await earnToken(gateway.url, { previous: expired.token });
        assert.notEqual(visitorIdOf(fresh.token), "v_old");
      },
    );

    await t.step("no token or challenge appears in a log line or a metric label", async () => {
      const text = JSON.stringify(gateway.logs);
      assert.ok(!text.includes(earned.token.split(".")[2]), "a token's signature in the logs");
      assert.ok(!text.includes(earned.challenge.split(".")[2]), "a challenge in the logs");
      assert.ok(!text.includes(SECRET));
      const metrics = await send(`${gateway.url}/metrics`);
      assert.match(metrics.text, new RegExp(`client="${visitorIdOf(earned.token)}"`));
      for (const part of earned.token.split(".").slice(1)) {
        assert.ok(!metrics.text.includes(part), "a piece of a token in the metrics");
      }
    });
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("visitors: GET /keyward/visitor.js is a module a listed page may import, with the WebAssembly in it", async () => {
  const mock = await startProviderMock();
  const gateway = await startGateway(config(mock.url, "proof_of_work: { seconds: 1 }"), ENV);
  try {
    const script = await send(`${gateway.url}/keyward/visitor.js`, { headers: { origin: APP } });
    assert.equal(script.status, 200);
    assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(script.headers["access-control-allow-origin"], APP);
    assert.match(script.text, /export function visitorToken/);
    assert.match(script.text, /export async function visitorFetch/);
    assert.ok(!script.text.includes("= __KEYWARD_WORKER__;"), "the worker is filled in");
    assert.ok(!script.text.includes('\\"__ARGON2_WASM__\\"'), "the WebAssembly is filled in");
    assert.ok(script.text.includes(ARGON2_WASM_BASE64.slice(0, 200)));
    assert.ok(script.text.length < 80_000, `${script.text.length} bytes`);
    const again = await send(`${gateway.url}/keyward/visitor.js`, {
      headers: { "if-none-match": script.headers.etag },
    });
    assert.equal(again.status, 304);
    const unlisted = await send(`${gateway.url}/keyward/visitor.js`, {
      headers: { origin: "http://evil.test" },
    });
    assert.equal(unlisted.status, 403);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("visitors: per_address 3/hour: the fourth challenge of a /24 is 429 with Retry-After, another /24 still earns", async () => {
  const mock = await startProviderMock();
  const gateway = await startGateway(
    config(mock.url, "proof_of_work: { seconds: 0.01 }\nper_address: 3/hour"),
    ENV,
  );
  try {
    for (let i = 0; i < 3; i++) await earnToken(gateway.url, { from: `127.0.0.${10 + i}` });
    const fourth = await send(`${gateway.url}/keyward/visitor/challenge`, { from: "127.0.0.99" });
    assert.equal(fourth.status, 429);
    assert.equal(fourth.json.error.type, "rate_limited");
    assert.match(fourth.json.error.message, /127\.0\.0\.0\/24.*3 visitor tokens/);
    const retry = Number(fourth.headers["retry-after"]);
    assert.ok(retry >= 1 && retry <= 3600, String(retry));
    // Refused before any work: no challenge to solve.
    assert.equal(fourth.json.challenge, undefined);
    await earnToken(gateway.url, { from: ELSEWHERE });
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("visitors: behind a trusted proxy, IPv6 counts per /64 and, eight times that, per /48", async () => {
  const mock = await startProviderMock();
  const gateway = await startGateway(
    config(
      mock.url,
      "proof_of_work: { seconds: 0.01 }\nper_address: 1/hour",
      "",
      "  trust_forwarded: true\n",
    ),
    ENV,
  );
  const challenge = (address: string) =>
    send(`${gateway.url}/keyward/visitor/challenge`, { headers: { "x-forwarded-for": address } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await challenge(`2001:db8:7:${i}::1`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 429]);
    assert.equal((await challenge("2001:db8:7:0::2")).status, 429, "the same /64");
    assert.equal((await challenge("2001:db8:8:0::1")).status, 200, "another /48");
    // The token is bound to the /64 the proxy named.
    const issued = await challenge("2001:db8:9:1::1");
    const claims = JSON.parse(
      atob(issued.json.challenge.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
    );
    assert.equal(claims.pfx, "2001:db8:9:1::/64");
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("visitors: difficulty rises within seconds of a burst from one /24, not for another /24", async () => {
  const mock = await startProviderMock();
  const gateway = await startGateway(
    config(mock.url, "proof_of_work: { seconds: 2 }\nper_address: 1000/hour"),
    ENV,
  );
  try {
    const prices: number[] = [];
    for (let i = 0; i < 30; i++) {
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`);
      prices.push(issued.json.difficulty);
    }
    assert.equal(prices[0], 3000, "calm: 2 s × 1500");
    assert.equal(prices[5], 3000, "six a minute are free");
    assert.equal(prices[9], 6000, "the tenth in a minute: ×2");
    assert.equal(prices[29], 3000 * 64, "the thirtieth: ×64");
    for (let i = 1; i < prices.length; i++) assert.ok(prices[i] >= prices[i - 1]);
    const other = await send(`${gateway.url}/keyward/visitor/challenge`, { from: ELSEWHERE });
    assert.equal(other.json.difficulty, 3000, "another /24 is not charged for this one's burst");
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("visitors: requests and tokens count per visitor; limits.route caps them all together", async (t) => {
  const mock = await startProviderMock();
  const gateway = await startGateway(
    config(
      mock.url,
      "proof_of_work: { seconds: 0.01 }\nper_address: 100/hour",
      "limits: { requests: 2/hour, route: { requests: 5/hour } }",
    ),
    ENV,
  );
  const budget = await startGateway(
    config(
      mock.url,
      "proof_of_work: { seconds: 0.01 }\nper_address: 100/hour",
      "limits: { tokens: 200/day }\nbody: { max_tokens: 20 }",
    ),
    ENV,
  );
  try {
    await t.step("requests per visitor, and the route's ceiling for all visitors", async () => {
      const [a, b, c] = [
        await earnToken(gateway.url),
        await earnToken(gateway.url),
        await earnToken(gateway.url, { from: ELSEWHERE }),
      ];
      const own: number[] = [];
      for (let i = 0; i < 10; i++) own.push((await chat(gateway, a.token)).status);
      assert.deepEqual(own, [200, 200, 429, 429, 429, 429, 429, 429, 429, 429], "a's own 2");
      // A new visitor id is a new budget: b and c get theirs, until the route's 5 are spent;
      // a's refused requests spent none of them.
      assert.equal((await chat(gateway, b.token)).status, 200);
      assert.equal((await chat(gateway, b.token)).status, 200);
      assert.equal((await chat(gateway, c.token, { from: ELSEWHERE })).status, 200);
      const ceiling = await chat(gateway, c.token, { from: ELSEWHERE });
      assert.equal(ceiling.status, 429);
      assert.match(ceiling.json.error.message, /Route openai has reached its limit of 5/);
      const d = await earnToken(gateway.url);
      assert.equal((await chat(gateway, d.token)).status, 429, "a fresh visitor too");
      assert.equal(mock.requests.length, 5);
    });

    await t.step(
      "a visitor who spent its tokens leaves another visitor all of theirs",
      async () => {
        const [a, b] = [await earnToken(budget.url), await earnToken(budget.url)];
        const statuses: number[] = [];
        for (let i = 0; i < 15; i++) {
          const status = (await chat(budget, a.token)).status;
          statuses.push(status);
          if (status === 429) break;
        }
        assert.equal(statuses.at(-1), 429, `a's budget never ran out: ${statuses}`);
        assert.ok(statuses.length >= 3, `a got ${statuses}`);
        assert.equal((await chat(budget, b.token)).status, 200);
      },
    );
  } finally {
    await gateway.close();
    await budget.close();
    await mock.close();
  }
});

Deno.test("visitors: Turnstile instead of or as well as the puzzle, against a loopback siteverify", async (t) => {
  const mock = await startProviderMock();
  const siteverify = await startSiteverify();
  const turnstile = (secret: string, url = siteverify.url) =>
    `turnstile: { secret: "${secret}", verify_url: "${url}" }`;
  const post = (gateway: TestGateway, body: unknown) =>
    send(`${gateway.url}/keyward/visitor/token`, { method: "POST", body: JSON.stringify(body) });
  const gateways: TestGateway[] = [];
  const start = async (visitors: string) => {
    const gateway = await startGateway(config(mock.url, visitors), ENV);
    gateways.push(gateway);
    return gateway;
  };
  try {
    await t.step("instead: a Turnstile answer earns a token; per_address counts it", async () => {
      const gateway = await start(`${turnstile(TURNSTILE.passes)}\nper_address: 2/hour`);
      const answer = await post(gateway, { turnstile: TURNSTILE.dummyResponse });
      assert.equal(answer.status, 200, answer.text);
      assert.equal((await chat(gateway, answer.json.token)).status, 200);
      const sent = siteverify.received.at(-1);
      assert.equal(sent.secret, TURNSTILE.passes);
      assert.equal(sent.response, TURNSTILE.dummyResponse);
      assert.equal(sent.remoteip, "127.0.0.1");
      assert.match(sent.idempotency_key, /^[0-9a-f-]{36}$/);
      assert.equal((await post(gateway, { turnstile: "forged" })).status, 401);
      // That was the second of two for this /24: the third is refused before siteverify.
      const asked = siteverify.received.length;
      const third = await post(gateway, { turnstile: TURNSTILE.dummyResponse });
      assert.equal(third.status, 429);
      assert.equal(siteverify.received.length, asked);
      // No puzzle on this gateway.
      assert.equal((await send(`${gateway.url}/keyward/visitor/challenge`)).status, 404);
    });

    await t.step(
      "a refusing secret, a spent answer, an unreachable siteverify: refused",
      async () => {
        const fails = await start(turnstile(TURNSTILE.fails));
        const refused = await post(fails, { turnstile: TURNSTILE.dummyResponse });
        assert.equal(refused.status, 401);
        const spent = await start(turnstile(TURNSTILE.spent));
        assert.equal((await post(spent, { turnstile: TURNSTILE.dummyResponse })).status, 401);
        const away = await start(turnstile(TURNSTILE.passes, "http://127.0.0.1:9/siteverify"));
        const failed = await post(away, { turnstile: TURNSTILE.dummyResponse });
        assert.equal(failed.status, 502, "fails closed");
      },
    );

    await t.step("as well as: a token request carries both", async () => {
      const gateway = await start(
        `proof_of_work: { seconds: 0.01 }\n${turnstile(TURNSTILE.passes)}\nearn_with: both`,
      );
      const issued = await send(`${gateway.url}/keyward/visitor/challenge`);
      assert.equal(issued.json.turnstile, "required");
      const { challenge, difficulty } = issued.json;
      const argon2 = await loadArgon2id();
      let nonce = 0;
      while (!solves(argon2, challenge, String(nonce), difficulty, 1024, 1)) nonce++;
      assert.equal((await post(gateway, { turnstile: TURNSTILE.dummyResponse })).status, 400);
      assert.equal((await post(gateway, { challenge, nonce: String(nonce) })).status, 400);
      const both = await post(gateway, {
        challenge,
        nonce: String(nonce),
        turnstile: TURNSTILE.dummyResponse,
      });
      assert.equal(both.status, 200, both.text);
    });

    await t.step("either: a solved challenge or a Turnstile answer", async () => {
      const gateway = await start(
        `proof_of_work: { seconds: 0.01 }\n${turnstile(TURNSTILE.passes)}`,
      );
      assert.equal((await post(gateway, { turnstile: TURNSTILE.dummyResponse })).status, 200);
      await earnToken(gateway.url);
    });
  } finally {
    for (const gateway of gateways) await gateway.close();
    await siteverify.close();
    await mock.close();
  }
});

/** Two instances sharing a store: a challenge is good for one token, per_address counts on both. */
async function sharedStore(store: string) {
  const mock = await startProviderMock();
  const yaml = config(mock.url, "proof_of_work: { seconds: 0.01 }\nper_address: 3/hour")
    .replace("store: { kind: memory }", `store: ${store}`);
  const [a, b] = [await startGateway(yaml, ENV), await startGateway(yaml, ENV)];
  try {
    const earned = await earnToken(a.url);
    // The solution replayed at the other instance.
    const replayed = await send(`${b.url}/keyward/visitor/token`, {
      method: "POST",
      body: JSON.stringify({ challenge: earned.challenge, nonce: earned.nonce }),
    });
    assert.equal(replayed.status, 400);
    assert.match(replayed.json.error.message, /answered before/);
    // A token from one instance works at the other (same secret).
    assert.equal((await chat(b, earned.token)).status, 200);
    // Two more challenges, one at each: the fourth of the /24 is refused wherever it is asked.
    assert.equal((await send(`${b.url}/keyward/visitor/challenge`)).status, 200);
    assert.equal((await send(`${a.url}/keyward/visitor/challenge`)).status, 200);
    assert.equal((await send(`${b.url}/keyward/visitor/challenge`)).status, 429);
  } finally {
    await a.close();
    await b.close();
    await mock.close();
  }
}

Deno.test("visitors: on a Redis shared by two instances, a challenge is good for one token and per_address counts on both", async () => {
  const redis = await startRedis();
  try {
    await sharedStore(`{ kind: redis, url: "${redis.url}" }`);
  } finally {
    await redis.stop();
  }
});

Deno.test("visitors: on a Deno KV file shared by two instances, the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-visitors-kv-" });
  try {
    await sharedStore(`{ kind: kv, path: ${dir}/limits.kv }`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("visitors: config errors at their line, and what check prints", async () => {
  const route = `routes:
  - name: openai
    path: /openai
    preset: openai
    auth: visitor
`;
  assert.throws(() => loadConfigText(route, "routes.yaml", () => undefined), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.issues[0].line, 5);
    assert.match(error.issues[0].message, /auth: visitor needs server\.visitors/);
    return true;
  });
  const short = `server:\n  visitors:\n    secret: too-short\n${route}`;
  assert.throws(() => loadConfigText(short, "routes.yaml", () => undefined), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.issues[0].line, 3);
    assert.match(error.issues[0].message, /32 bytes or more/);
    return true;
  });
  const both = `server:\n  visitors:\n    secret: "${SECRET}"\n    earn_with: both\n${route}`;
  assert.throws(
    () => loadConfigText(both, "routes.yaml", () => undefined),
    /earn_with: both needs/,
  );

  const dir = await Deno.makeTempDir({ prefix: "keyward-visitors-" });
  try {
    await Deno.writeTextFile(
      `${dir}/routes.yaml`,
      `server:\n  visitors:\n    secret: "${SECRET}"\n    per_address: 10/hour\n${route}`,
    );
    const { ok, report } = await checkConfig(`${dir}/routes.yaml`);
    assert.ok(ok, report);
    assert.match(report, /openai .* visitor/);
    assert.doesNotMatch(report, /no route has auth: visitor/);
    assert.match(
      report,
      /visitors: proof of work \(argon2id, 1 MiB\) at difficulty 3000, about 2 s in a browser, rising under bursts; per_address 10\/hour \(per IPv4 \/24, IPv6 \/64\); tokens live 1h/,
    );
    await Deno.writeTextFile(
      `${dir}/unused.yaml`,
      `server:\n  visitors:\n    secret: "${SECRET}"\n${
        route.replace("auth: visitor", "auth: none")
      }`,
    );
    const unused = await checkConfig(`${dir}/unused.yaml`);
    assert.match(
      unused.report,
      /unused\.yaml:3:5 server\.visitors is set but no route has auth: visitor/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
