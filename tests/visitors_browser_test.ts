/**
 * Visitors in a real Chromium: a page on its own origin imports visitor.js from the gateway,
 * earns a token in Web Workers and streams a chat through the `openai` SDK (bundled for the
 * browser) with `fetch: visitorFetch`, against a loopback provider mock. Then the ways around
 * it: the same token replayed from another address prefix (a client bound to 127.0.1.x) and
 * from a page on another origin, nothing of it reaching the upstream; a solution sent twice, a
 * forged challenge and a wrong nonce; the fourth token of a /24 over `per_address: 3/hour`
 * (429 at the challenge, before any work); difficulty rising under a burst; limits per visitor
 * and the route's ceiling over several visitors. One browser for the whole file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadArgon2id } from "../src/visitors/argon2.ts";
import { solves } from "../src/visitors/puzzle.ts";
import { bundleForBrowser, launchBrowser, servePages } from "./helpers/browser.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { startProviderMock } from "./helpers/provider_mock.ts";
import { serveLoopback } from "./helpers/serve.ts";
import { send } from "./helpers/visitors.ts";

const SECRET = "visitor-secret-Zp4Kx8Qm2Vn6Rb1Lc9Wt";
const ENV = { KEYWARD_VISITOR_SECRET: SECRET, OPENAI_API_KEY: "sk-provider-Jd5Fh2Ks8Lq3" };

function config(origins: string[], upstream: string, perAddress: string, limits = "") {
  return `server:
  cors: { origins: ${JSON.stringify(origins)} }
  visitors:
    secret: \${KEYWARD_VISITOR_SECRET}
    proof_of_work: { seconds: 0.05 }
    per_address: ${perAddress}
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${upstream}/openai
    auth: visitor
${limits ? `    limits: ${limits}\n` : ""}`;
}

/** The page: visitor.js from the gateway, the openai SDK from the page's own origin. */
function page(gateway: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>visitors</title></head>
<body><h1>A page without accounts</h1><p id="answer"></p>
<script type="module">
import * as visitor from ${JSON.stringify(`${gateway}/keyward/visitor.js`)};
import { OpenAI } from "/sdk.js";
window.kw = { ...visitor, OpenAI, G: ${JSON.stringify(gateway)} };
window.ready = true;
</script></body></html>`;
}

Deno.test({
  name:
    "visitors in Chromium: a page earns a token and streams a chat; tokens and solutions taken elsewhere are refused",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const [sdk, browser, mock, site] = await Promise.all([
    bundleForBrowser(new URL("./sdk/openai_entry.ts", import.meta.url)),
    launchBrowser(),
    startProviderMock(),
    servePages(),
  ]);
  // Two origins of the page server: the app, and another page its owner also lists.
  const app = site.origin("localhost");
  const other = site.origin("127.0.0.1");
  const gateways: TestGateway[] = [];
  const start = async (perAddress: string, limits?: string) => {
    const gateway = await startGateway(config([app, other], mock.url, perAddress, limits), ENV);
    gateways.push(gateway);
    return gateway;
  };
  try {
    const gateway = await start("100/hour");
    site.set("/sdk.js", sdk, "text/javascript; charset=utf-8");
    site.set("/app", page(gateway.url));
    const tab = await browser.newPage();
    await tab.goto(`${app}/app`);
    await tab.waitForFunction("window.ready === true", undefined, { timeout: 20_000 });
    let token = "";

    await t.step(
      "the page earns a token with visitor.js and streams through the openai SDK",
      async () => {
        const result = await tab.evaluate(async () => {
          // deno-lint-ignore no-explicit-any
          const kw = (globalThis as any).kw;
          const started = performance.now();
          const token = await kw.visitorToken();
          const earnedMs = performance.now() - started;
          const openai = new kw.OpenAI({
            baseURL: `${kw.G}/openai/v1`,
            apiKey: "visitor",
            fetch: kw.visitorFetch,
            dangerouslyAllowBrowser: true,
            maxRetries: 0,
          });
          const stream = await openai.chat.completions.create({
            model: "gpt-4o-mini",
            stream: true,
            messages: [{ role: "user", content: "hi" }],
          });
          let text = "";
          let pieces = 0;
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta?.content;
            if (delta) {
              text += delta;
              pieces++;
              // deno-lint-ignore no-explicit-any
              (globalThis as any).document.getElementById("answer").textContent = text;
            }
          }
          return { token, earnedMs, text, pieces, cached: await kw.visitorToken() };
        });
        token = result.token;
        assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
        assert.equal(result.text, "Hello from the mock");
        assert.equal(result.pieces, 5, "the stream arrived event by event");
        assert.equal(result.cached, token, "the token is cached");
        const sent = mock.requests.at(-1)!;
        assert.equal(sent.headers.authorization, `Bearer ${ENV.OPENAI_API_KEY}`);
        assert.ok(!JSON.stringify(sent).includes(token), "the upstream never sees the token");
        // A stream's log line is written once its end has been seen through.
        const find = () =>
          gateway.logs.find((r) => r.method === "POST" && r.path === "/openai/v1/chat/completions");
        for (let i = 0; i < 250 && !find(); i++) await new Promise((r) => setTimeout(r, 20));
        const record = find();
        assert.equal(record?.status, 200);
        assert.match(record?.client ?? "", /^v_/);
        assert.ok(!JSON.stringify(gateway.logs).includes(token.split(".")[2]));
        await browser.screenshot(tab, "visitors-chat");
      },
    );

    await t.step(
      "the same token from another /24 or another page's origin: 403, nothing upstream",
      async () => {
        const before = mock.requests.length;
        const body = JSON.stringify({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "hi" }],
        });
        const headers = { authorization: `Bearer ${token}`, origin: app };
        const path = `${gateway.url}/openai/v1/chat/completions`;
        const elsewhere = await send(path, { method: "POST", from: "127.0.1.5", headers, body });
        assert.equal(elsewhere.status, 403, elsewhere.text);
        assert.match(elsewhere.json.error.message, /another network/);
        // A page on another listed origin, with the token in hand.
        const otherTab = await browser.newPage();
        site.set("/blank", "<!doctype html><title>other</title>");
        await otherTab.goto(`${other}/blank`);
        const fromOther = await otherTab.evaluate(async ([path, token, body]) => {
          const response = await fetch(path, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body,
          });
          return { status: response.status, message: (await response.json()).error?.message };
        }, [path, token, body]);
        await otherTab.close();
        assert.deepEqual(fromOther, {
          status: 403,
          message: "The visitor token was earned by a page on another origin",
        });
        // A forged token (another visitor's id on the same signature) is 401.
        const [header, payload, signature] = token.split(".");
        const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
        const forged = `${header}.${
          btoa(JSON.stringify({ ...claims, sub: "v_someone" })).replace(/=+$/, "")
            .replace(/\+/g, "-").replace(/\//g, "_")
        }.${signature}`;
        const refused = await send(path, {
          method: "POST",
          headers: { ...headers, authorization: `Bearer ${forged}` },
          body,
        });
        assert.equal(refused.status, 401);
        assert.equal(mock.requests.length, before, "nothing reached the upstream");
      },
    );

    await t.step(
      "a solution sent twice, a forged challenge and a wrong nonce are refused",
      async () => {
        const result = await tab.evaluate(async () => {
          // deno-lint-ignore no-explicit-any
          const kw = (globalThis as any).kw;
          const challenge = async () =>
            await (await fetch(`${kw.G}/keyward/visitor/challenge`)).json();
          const post = async (body: unknown) => {
            const response = await fetch(`${kw.G}/keyward/visitor/token`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(body),
            });
            return { status: response.status, body: await response.json() };
          };
          const issued = await challenge();
          const nonce = await kw.solveChallenge(issued);
          const first = await post({ challenge: issued.challenge, nonce });
          const replayed = await post({ challenge: issued.challenge, nonce });
          // Difficulty 1 written into a challenge: every nonce would solve it.
          const fresh = await challenge();
          const [header, payload, signature] = fresh.challenge.split(".");
          const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
          const easier = btoa(JSON.stringify({ ...claims, d: 1 })).replace(/=+$/, "")
            .replace(/\+/g, "-").replace(/\//g, "_");
          const forged = await post({ challenge: `${header}.${easier}.${signature}`, nonce: "0" });
          return { first: first.status, replayed, forged, next: await challenge() };
        });
        assert.equal(result.first, 200);
        assert.equal(result.replayed.status, 400);
        assert.match(result.replayed.body.error.message, /answered before/);
        assert.equal(result.forged.status, 400);
        assert.match(result.forged.body.error.message, /not issued by this gateway/);
        // A nonce that does not solve it, found here, sent by the page.
        const { challenge, difficulty } = result.next;
        const argon2 = await loadArgon2id();
        let wrong = 0;
        while (solves(argon2, challenge, String(wrong), difficulty, 1024, 1)) wrong++;
        const refused = await tab.evaluate(async ([challenge, nonce]) => {
          // deno-lint-ignore no-explicit-any
          const kw = (globalThis as any).kw;
          const response = await fetch(`${kw.G}/keyward/visitor/token`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ challenge, nonce }),
          });
          return { status: response.status, message: (await response.json()).error.message };
        }, [challenge, String(wrong)]);
        assert.deepEqual(refused, {
          status: 400,
          message: "The nonce does not solve the challenge",
        });
      },
    );

    await t.step(
      "the fourth token of a /24 over per_address: 3/hour is refused at the challenge",
      async () => {
        const strict = await start("3/hour");
        const result = await tab.evaluate(async (gateway) => {
          // deno-lint-ignore no-explicit-any
          const kw = (globalThis as any).kw;
          const outcomes = [];
          for (let i = 0; i < 4; i++) {
            kw.forgetVisitorToken({ gateway });
            try {
              await kw.visitorToken({ gateway });
              outcomes.push("token");
            } catch (error) {
              // deno-lint-ignore no-explicit-any
              const { name, status, retryAfter, message } = error as any;
              outcomes.push({ name, status, retryAfter, message });
            }
          }
          return outcomes;
        }, strict.url);
        assert.deepEqual(result.slice(0, 3), ["token", "token", "token"]);
        const fourth = result[3] as { name: string; status: number; retryAfter: number };
        assert.equal(fourth.name, "VisitorError");
        assert.equal(fourth.status, 429);
        assert.ok(fourth.retryAfter >= 1 && fourth.retryAfter <= 3600, JSON.stringify(fourth));
        const asked = strict.logs.filter((r) =>
          r.method === "POST" && r.path === "/keyward/visitor/token"
        ).length;
        assert.equal(asked, 3, "the fourth never got to solve anything");
      },
    );

    await t.step(
      "limits count per visitor; the route's ceiling holds over several visitors",
      async () => {
        const limited = await start(
          "100/hour",
          "{ requests: 2/hour, route: { requests: 3/hour } }",
        );
        const statuses = await tab.evaluate(async (gateway) => {
          // deno-lint-ignore no-explicit-any
          const kw = (globalThis as any).kw;
          const openai = new kw.OpenAI({
            baseURL: `${gateway}/openai/v1`,
            apiKey: "visitor",
            fetch: kw.visitorFetch,
            dangerouslyAllowBrowser: true,
            maxRetries: 0,
          });
          const call = async () => {
            try {
              await openai.models.list();
              return 200;
            } catch (error) {
              // deno-lint-ignore no-explicit-any
              return (error as any).status;
            }
          };
          kw.forgetVisitorToken({ gateway });
          await kw.visitorToken({ gateway }); // visitorFetch goes to the last gateway named
          const first = [await call(), await call(), await call()];
          kw.forgetVisitorToken({ gateway }); // a new visitor
          const second = [await call(), await call()];
          return { first, second };
        }, limited.url);
        assert.deepEqual(statuses.first, [200, 200, 429], "the first visitor's own 2 an hour");
        assert.deepEqual(statuses.second, [200, 429], "the route's 3 an hour, for everyone");
        const clients = new Set(
          limited.logs.filter((r) => r.method === "GET" && r.path === "/openai/v1/models")
            .map((r) => r.client),
        );
        assert.equal(clients.size, 2, "two visitor ids");
        const refusal = limited.logs.filter((r) => r.status === 429).map((r) => r.detail);
        assert.deepEqual(refusal, [undefined, "route"]);
      },
    );

    await t.step(
      "visitorFetch earns a new token when the gateway refuses the one it holds",
      async () => {
        // One address in front of two gateways with different secrets: after the switch, the
        // token the page holds is forged as far as the second one can tell.
        const first = await start("100/hour");
        const second = await startGateway(config([app, other], mock.url, "100/hour"), {
          ...ENV,
          KEYWARD_VISITOR_SECRET: "another-secret-of-thirty-two-bytes-or-more",
        });
        gateways.push(second);
        let target = first.url;
        const front = await serveLoopback(async (request) => {
          const url = new URL(request.url);
          const headers = new Headers(request.headers);
          headers.delete("host");
          return await fetch(target + url.pathname + url.search, {
            method: request.method,
            headers,
            body: request.body,
            redirect: "manual",
          });
        });
        try {
          const call = (gateway: string) =>
            tab.evaluate(async (gateway) => {
              // deno-lint-ignore no-explicit-any
              const kw = (globalThis as any).kw;
              await kw.visitorToken({ gateway });
              const openai = new kw.OpenAI({
                baseURL: `${gateway}/openai/v1`,
                apiKey: "visitor",
                fetch: kw.visitorFetch,
                dangerouslyAllowBrowser: true,
                maxRetries: 0,
              });
              const page = await openai.models.list();
              return { models: page.data.length, token: await kw.visitorToken({ gateway }) };
            }, gateway);
          const before = await call(front.url);
          assert.equal(before.models, 1);
          target = second.url;
          const after = await call(front.url);
          assert.equal(after.models, 1, "the call went through with a new token");
          assert.notEqual(after.token, before.token);
          const refused = second.logs.find((r) => r.status === 401);
          assert.equal(refused?.error, "visitor_refused");
        } finally {
          await front.close();
        }
      },
    );

    await t.step("difficulty rises within seconds of a burst from one /24", async () => {
      const prices = await tab.evaluate(async () => {
        // deno-lint-ignore no-explicit-any
        const kw = (globalThis as any).kw;
        const prices = [];
        for (let i = 0; i < 24; i++) {
          const issued = await (await fetch(`${kw.G}/keyward/visitor/challenge`)).json();
          prices.push(issued.difficulty);
        }
        return prices;
      });
      for (let i = 1; i < prices.length; i++) assert.ok(prices[i] >= prices[i - 1], `${prices}`);
      assert.ok(prices.at(-1)! >= 16 * prices[0], `${prices}`);
      assert.ok(prices.at(-1)! >= 75 * 32, `${prices}`);
    });

    await tab.close();
  } finally {
    for (const gateway of gateways) await gateway.close();
    await browser.close();
    await Promise.all([site.close(), mock.close()]);
  }
});
