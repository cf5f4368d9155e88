/**
 * Browsers against the gateway, in a real Chromium: a page on another origin must not be able
 * to make its visitor's browser spend the key, by any kind of request a page can send, with
 * `server.cors` or without; pages on the gateway's own origin and listed origins keep working,
 * and a listed origin reads every answer, errors included.
 *
 * Three loopback origins play the parts: the gateway at `127.0.0.1:G`; pages at
 * `127.0.0.1:P` (same site, another origin), `localhost:P` and `evil.test:P` (other sites).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { createGateway } from "../mod.ts";
import type { RequestRecord } from "../src/observe/log.ts";
import { launchBrowser, servePages, type TestBrowser } from "./helpers/browser.ts";
import {
  ALL_KINDS,
  navigationLink,
  type RequestKind,
  requestKindsPage,
} from "./helpers/browser_requests.ts";
import { startGateway } from "./helpers/gateway.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

const KEYS = { OPENAI_API_KEY: "sk-browser-SECRET", INFERENCE_API_KEY: "inf-browser-SECRET" };

function routes(mock: MockUpstream): string {
  return `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
  - name: inference
    path: /api/inference/proxy
    target: { header: x-inf-target-url, query: __inf_target, hosts: ["${mock.host}"] }
    key: { env: INFERENCE_API_KEY }
    allow: ["POST /apps/run", "GET /spaced"]
  - name: any
    path: /api/any
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow: ["GET /**", "POST /**"]
`;
}

/**
 * The attacks as reported: a `text/plain` fetch and a `text/plain` form post to a chat route,
 * and a no-cors POST that runs an inference.sh app through the target route.
 */
function spendPage(gateway: string, mock: MockUpstream): string {
  const target = encodeURIComponent(`${mock.url}/apps/run`);
  return `<!doctype html><html><body><h1>spend</h1><script>
const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
fetch("${gateway}/openai/v1/chat/completions", { method: "POST", headers: { "content-type": "text/plain" }, body }).catch(() => {});
fetch("${gateway}/api/inference/proxy?__inf_target=${target}", { method: "POST", mode: "no-cors", body: '{"app":"x"}' });
</script>
<iframe name="sink"></iframe>
<form method="post" enctype="text/plain" target="sink" action="${gateway}/openai/v1/chat/completions">
<input name='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x":"' value='"}'>
</form><script>document.forms[0].submit();</script></body></html>`;
}

/** Waits (bounded) until the gateway has logged a request for each path in `paths`. */
async function loggedAll(
  logs: RequestRecord[],
  paths: string[],
  ms = 15_000,
): Promise<RequestRecord[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    // A path named twice needs two records.
    const found: (RequestRecord | undefined)[] = [];
    for (const path of paths) {
      found.push(logs.find((record) => record.path === path && !found.includes(record)));
    }
    if (found.every(Boolean)) return found as RequestRecord[];
    if (performance.now() > deadline) {
      const missing = paths.filter((_, i) => !found[i]);
      throw new Error(`The gateway never saw ${missing.join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const kindPath = (kind: RequestKind) => `/api/any/${kind}`;

/** Opens `url`, waits for every kind to reach the gateway, and checks each was refused. */
async function everyKindRefused(
  browser: TestBrowser,
  gateway: { logs: RequestRecord[] },
  mock: MockUpstream,
  url: string,
  shot: string,
) {
  gateway.logs.length = 0;
  const page = await browser.newPage();
  await page.goto(url);
  const records = await loggedAll(gateway.logs, ALL_KINDS.map(kindPath));
  await page.waitForTimeout(100);
  await browser.screenshot(page, shot);
  await page.close();
  for (const record of records) {
    assert.match(record.error ?? "", /^(origin_not_allowed|browser_no_origin)$/);
  }
  const statuses = Object.fromEntries(records.map((r) => [r.path, r.status]));
  assert.deepEqual(statuses, Object.fromEntries(ALL_KINDS.map((k) => [kindPath(k), 403])));
  assert.deepEqual(mock.requests.map((r) => r.url), [], "nothing reached the upstream");
}

async function bodyText(page: Page): Promise<string> {
  return await page.innerText("body");
}

/** Without `server.cors`, no page on another origin can make keyward call the upstream. */
async function withoutCors(browser: TestBrowser) {
  const mock = await startMockUpstream();
  // Asked for a key before each forwarded request: a refusal must come before it.
  const keysAsked: string[] = [];
  const gateway = await startGateway(routes(mock), KEYS, {
    resolveKey: (route) => void keysAsked.push(route.name),
  });
  const pages = await servePages({
    "/": requestKindsPage((kind) => gateway.url + kindPath(kind)),
    "/spend": spendPage(gateway.url, mock),
    "/link": navigationLink(`${gateway.url}/api/any/navigate`),
    "/health-link": navigationLink(`${gateway.url}/healthz`),
  });
  try {
    // The attacks: a chat completion and an inference.sh run, each billed.
    gateway.logs.length = 0;
    const spend = await browser.newPage();
    await spend.goto(`${pages.origin("evil.test")}/spend`);
    const spent = await loggedAll(gateway.logs, [
      "/openai/v1/chat/completions",
      "/openai/v1/chat/completions",
      "/api/inference/proxy",
    ]);
    await spend.close();
    assert.deepEqual(spent.map((r) => r.status), [403, 403, 403]);
    assert.deepEqual(mock.requests.map((r) => r.url), [], "nothing reached the upstream");

    // Every kind of request, from another site and from a sibling origin of the same site.
    await everyKindRefused(browser, gateway, mock, `${pages.origin("localhost")}/`, "cross-site");
    await everyKindRefused(browser, gateway, mock, `${pages.origin("evil.test")}/`, "evil-test");
    await everyKindRefused(browser, gateway, mock, `${pages.origin("127.0.0.1")}/`, "same-site");

    // A link followed from another site, and a URL typed in the address bar: refused.
    const page = await browser.newPage();
    await page.goto(`${pages.origin("evil.test")}/link`);
    await Promise.all([page.waitForURL(`${gateway.url}/api/any/navigate`), page.click("#go")]);
    assert.match(await bodyText(page), /"type":"forbidden"/);
    await browser.screenshot(page, "navigation-refused");
    const typed = await page.goto(`${gateway.url}/api/any/typed`);
    assert.equal(typed?.status(), 403);
    assert.deepEqual(mock.requests.map((r) => r.url), [], "nothing reached the upstream");

    assert.deepEqual(keysAsked, [], "no key was read for a refused request");

    // The gateway's own pages still open in a tab, typed or linked from anywhere.
    assert.equal((await page.goto(`${gateway.url}/healthz`))?.status(), 200);
    await page.goto(`${pages.origin("evil.test")}/health-link`);
    await Promise.all([page.waitForURL(`${gateway.url}/healthz`), page.click("#go")]);
    assert.match(await bodyText(page), /"status":"ok"/);
    await page.close();
  } finally {
    await pages.close();
    await gateway.close();
    await mock.close();
  }
}

/** A page on the gateway's own origin sends every kind of request, and each is served. */
async function sameOrigin(browser: TestBrowser) {
  const mock = await startMockUpstream();
  const logs: RequestRecord[] = [];
  const keysAsked: string[] = [];
  const gateway = await createGateway(routes(mock), {
    resolveKey: (route) => void keysAsked.push(route.name),
  }, {
    log: (record) => logs.push(structuredClone(record)),
    readers: { env: (name) => KEYS[name as keyof typeof KEYS], file: () => "" },
  });
  // An app that mounts the gateway: its pages and the gateway share one origin.
  const app = await serveLoopback((request, info) => {
    if (new URL(request.url).pathname !== "/app") return gateway.fetch(request, info);
    const html = requestKindsPage((kind) => kindPath(kind));
    return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${app.url}/app`);
    const records = await loggedAll(logs, ALL_KINDS.map(kindPath));
    await browser.screenshot(page, "same-origin");
    assert.deepEqual(
      Object.fromEntries(records.map((r) => [r.path, r.status])),
      Object.fromEntries(ALL_KINDS.map((k) => [kindPath(k), 200])),
    );
    const reached = mock.requests.map((r) => r.path).sort();
    assert.deepEqual(reached, ALL_KINDS.map((k) => `/${k}`).sort());
    assert.ok(
      mock.requests.every((r) => r.headers.authorization === `Bearer ${KEYS.OPENAI_API_KEY}`),
    );
    assert.equal(keysAsked.length, ALL_KINDS.length, "a key was read for each");

    // Opening a route from the app's own pages, by a link or a typed URL on that origin: a
    // same-origin navigation is the app's own doing.
    const opened = await page.goto(`${app.url}/api/any/opened`);
    assert.equal(opened?.status(), 403, "a typed URL is not the app's doing");
    await page.goto(`${app.url}/app`);
    await page.evaluate(`location.href = "/api/any/linked"`);
    await page.waitForURL(`${app.url}/api/any/linked`);
    assert.match(await bodyText(page), /"path":"\/linked"/);
    await page.close();
  } finally {
    await app.close();
    await gateway.close();
    await mock.close();
  }
}

/** The listed app's page: a streamed chat, an EventSource, and every error kind, read. */
function appPage(gateway: string, mock: MockUpstream): string {
  const target = encodeURIComponent(`${mock.url}/spaced`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>the app</title></head>
<body><h1>The listed app</h1><p id="answer"></p><ul id="events"></ul><table id="errors"></table>
<script>
const G = ${JSON.stringify(gateway)};
const result = {};
const json = { "content-type": "application/json", "x-stainless-lang": "js" };
const chat = (stream) => JSON.stringify({ model: "gpt-4o-mini", stream, messages: [{ role: "user", content: "hi" }] });
const stream = async () => {
  const response = await fetch(G + "/openai/v1/chat/completions?spacing=60", {
    method: "POST", credentials: "include", headers: json, body: chat(true),
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const reads = [];
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const line of value.split("\\n")) {
      if (!line.startsWith("data: {")) continue;
      const delta = JSON.parse(line.slice(6)).choices[0]?.delta?.content;
      if (delta) { text += delta; document.getElementById("answer").textContent = text; reads.push(performance.now()); }
    }
  }
  return { status: response.status, id: response.headers.get("x-request-id"), text, reads: reads.length };
};
(async () => {
  result.stream = await stream().catch((e) => ({ error: String(e) }));

  result.events = await new Promise((resolve) => {
    const seen = [];
    const source = new EventSource(G + "/api/inference/proxy?__inf_target=${target}", { withCredentials: true });
    source.onmessage = (e) => {
      seen.push(e.data);
      const li = document.createElement("li"); li.textContent = e.data; document.getElementById("events").append(li);
      if (seen.length === 5) { source.close(); resolve(seen); }
    };
    source.onerror = () => { source.close(); resolve(seen); };
  });

  const call = async (name, path, init) => {
    try {
      const r = await fetch(G + path, { credentials: "include", ...init });
      const body = await r.json();
      result[name] = { status: r.status, type: body.error?.type, retryAfter: r.headers.get("retry-after"), id: r.headers.get("x-request-id") };
    } catch (e) {
      result[name] = { error: String(e) };
    }
    const row = document.getElementById("errors").insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = JSON.stringify(result[name]);
  };
  await call("403", "/openai/v1/files", { method: "POST", headers: json, body: "{}" });
  await call("404", "/nowhere", {});
  await call("413", "/small/upload", { method: "POST", headers: json, body: JSON.stringify({ pad: "x".repeat(4000) }) });
  await call("first", "/limited/once", { method: "POST", headers: json, body: "{}" });
  await call("429", "/limited/twice", { method: "POST", headers: json, body: "{}" });
  await call("502", "/down/anything", {});
  window.result = result;
})();
</script></body></html>`;
}

/** With `server.cors`, only listed origins are served, and they read every answer. */
async function withCors(browser: TestBrowser) {
  const mock = await startMockUpstream();
  const pages = await servePages({});
  const app = pages.origin("localhost");
  const gateway = await startGateway(
    `server:
  cors: { origins: ["${app}"], credentials: true }
${routes(mock)}
  - name: small
    path: /small
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow: ["POST /**"]
    limits: { body: 1kb }
  - name: limited
    path: /limited
    upstream: ${mock.url}
    key: { env: OPENAI_API_KEY }
    allow: ["POST /**"]
    limits: { requests: 1/min }
  - name: down
    path: /down
    upstream: http://127.0.0.1:1
    key: { env: OPENAI_API_KEY }
    allow: ["GET /**"]
`,
    KEYS,
  );
  try {
    pages.set("/", requestKindsPage((kind) => gateway.url + kindPath(kind)));
    pages.set("/app", appPage(gateway.url, mock));
    pages.set("/img", `<!doctype html><img src="${gateway.url}/api/any/listed-img">`);

    // Pages on unlisted origins: another site, and a sibling origin of the gateway's site.
    await everyKindRefused(
      browser,
      gateway,
      mock,
      `${pages.origin("evil.test")}/`,
      "cors-evil-test",
    );
    await everyKindRefused(
      browser,
      gateway,
      mock,
      `${pages.origin("127.0.0.1")}/`,
      "cors-same-site",
    );
    // The app's own page, copied to an unlisted origin, gets nowhere either.
    gateway.logs.length = 0;
    const copy = await browser.newPage();
    await copy.goto(`${pages.origin("evil.test")}/app`);
    await copy.waitForFunction("window.result !== undefined", undefined, { timeout: 10_000 });
    const copied = await copy.evaluate("window.result") as Record<string, { error?: string }>;
    assert.match(copied.stream?.error ?? "", /Failed to fetch/);
    assert.deepEqual(mock.requests.map((r) => r.url), [], "nothing reached the upstream");
    await copy.close();

    // A listed origin's <img>: no Origin, so nothing attributes it to the listed page.
    gateway.logs.length = 0;
    const img = await browser.newPage();
    await img.goto(`${app}/img`);
    const [listedImg] = await loggedAll(gateway.logs, ["/api/any/listed-img"]);
    assert.equal(listedImg.status, 403);
    assert.deepEqual(mock.requests.map((r) => r.url), [], "nothing reached the upstream");
    await img.close();

    // The listed app: a streamed chat after a preflight, an EventSource, and every error read.
    const page = await browser.newPage();
    await page.goto(`${app}/app`);
    await page.waitForFunction("window.result !== undefined", undefined, { timeout: 15_000 });
    await browser.screenshot(page, "listed-app");
    // deno-lint-ignore no-explicit-any
    const result = await page.evaluate("window.result") as Record<string, any>;
    assert.equal(result.stream.status, 200);
    assert.equal(result.stream.text, "Hello from the mock.");
    assert.ok(result.stream.reads >= 2, `tokens arrived in ${result.stream.reads} reads`);
    assert.ok(result.stream.id, "x-request-id is readable");
    assert.deepEqual(result.events.map((e: string) => JSON.parse(e).i), [0, 1, 2, 3, 4]);
    assert.deepEqual(
      ["403", "404", "413", "429", "502"].map((s) => [s, result[s].status, result[s].type]),
      [
        ["403", 403, "forbidden"],
        ["404", 404, "not_found"],
        ["413", 413, "payload_too_large"],
        ["429", 429, "rate_limited"],
        ["502", 502, "bad_gateway"],
      ],
    );
    assert.match(result["429"].retryAfter, /^\d+$/);
    for (const s of ["403", "404", "413", "429", "502"]) assert.ok(result[s].id, `${s} id read`);
    const chat = mock.requests.find((r) => r.path === "/v1/chat/completions");
    assert.equal(chat?.headers.authorization, `Bearer ${KEYS.OPENAI_API_KEY}`);
    assert.ok(!mock.requests.some((r) => r.method === "OPTIONS"), "preflights stay at the gateway");
    await page.close();
  } finally {
    await pages.close();
    await gateway.close();
    await mock.close();
  }
}

Deno.test({
  name:
    "browsers: pages on other origins cannot spend the key; the gateway's own and listed ones can",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  // One browser for every step: launching is most of the time.
  const browser = await launchBrowser({ hosts: ["evil.test"] });
  try {
    await t.step(
      "without server.cors, every kind of request from another origin is refused",
      () => withoutCors(browser),
    );
    await t.step(
      "a page on the gateway's own origin sends every kind, and each is served",
      () => sameOrigin(browser),
    );
    await t.step(
      "with server.cors, only listed origins are served, and read every answer",
      () => withCors(browser),
    );
    // Nothing the browser printed holds a key (refusals name no key, and none was read).
    assert.ok(browser.messages.length > 0, "the console was recorded");
    for (const message of browser.messages) assert.doesNotMatch(message, /SECRET/);
  } finally {
    await browser.close();
  }
});
