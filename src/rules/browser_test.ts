/**
 * The browser guard over every combination of `Origin` and Fetch Metadata a browser sends
 * (what Chromium sends for each kind of request is checked in tests/browser_guard_test.ts),
 * through `app.request()`: refusals never reach a handler, and a listed origin can read every
 * answer of the real gateway, errors included.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { CorsConfig } from "../config/types.ts";
import { loadConfigText } from "../config/load.ts";
import { Exchange } from "../exchange.ts";
import { buildGateway } from "../gateway.ts";
import { browserGuard } from "./browser.ts";

type Env = { Variables: { exchange: Exchange } };

const GATEWAY = "http://127.0.0.1:8080";
const APP = "http://localhost:3000";
const EVIL = "https://evil.example";

/** The guard in front of a handler that answers with the headers the guard added. */
function guarded(cors?: CorsConfig) {
  const app = new Hono<Env>();
  const reached: string[] = [];
  const guard = browserGuard({ cors, pages: ["/healthz", "/keyward/status"] });
  app.use(async (c, next) => {
    const x = new Exchange(c.req.raw, undefined, "test", "", c.req.path, () => {});
    c.set("exchange", x);
    const refused = guard(x);
    if (refused) return refused;
    await next();
  });
  app.all("*", (c) => {
    reached.push(`${c.req.method} ${c.req.path}`);
    // What the guard added (every exchange starts with its request id).
    const { "x-request-id": _id, ...added } = c.get("exchange").headers;
    return c.json(added);
  });
  return { app, reached };
}

/** Headers a browser would send, by the names Chromium uses. */
interface Sent {
  origin?: string;
  site?: "same-origin" | "same-site" | "cross-site" | "none";
  mode?: "cors" | "no-cors" | "navigate" | "same-origin" | "websocket";
  dest?: string;
  method?: string;
  path?: string;
  preflight?: boolean;
}

function request({ origin, site, mode, dest, method = "GET", path = "/r/x", preflight }: Sent) {
  const headers: Record<string, string> = {};
  if (origin) headers.origin = origin;
  if (site) headers["sec-fetch-site"] = site;
  if (mode) headers["sec-fetch-mode"] = mode;
  if (dest) headers["sec-fetch-dest"] = dest;
  if (preflight) headers["access-control-request-method"] = "POST";
  return new Request(GATEWAY + path, { method, headers });
}

async function status(app: Hono<Env>, sent: Sent): Promise<number> {
  const response = await app.request(request(sent));
  await response.body?.cancel();
  return response.status;
}

// A page on another origin, for every kind of request (as Chromium sends them).
const CROSS_ORIGIN: [string, Sent][] = [
  ["fetch text/plain POST", { origin: EVIL, site: "cross-site", mode: "cors", method: "POST" }],
  ["fetch GET", { origin: EVIL, site: "cross-site", mode: "cors" }],
  ["no-cors POST, beacon", { origin: EVIL, site: "cross-site", mode: "no-cors", method: "POST" }],
  ["no-cors GET", { site: "cross-site", mode: "no-cors", dest: "empty" }],
  ["form POST", {
    origin: EVIL,
    site: "cross-site",
    mode: "navigate",
    dest: "iframe",
    method: "POST",
  }],
  ["img", { site: "cross-site", mode: "no-cors", dest: "image" }],
  ["script", { site: "cross-site", mode: "no-cors", dest: "script" }],
  ["style", { site: "cross-site", mode: "no-cors", dest: "style" }],
  ["EventSource", { origin: EVIL, site: "cross-site", mode: "cors", dest: "empty" }],
  ["iframe", { site: "cross-site", mode: "navigate", dest: "iframe" }],
  ["link followed", { site: "cross-site", mode: "navigate", dest: "document" }],
  ["preflight", {
    origin: EVIL,
    site: "cross-site",
    mode: "cors",
    method: "OPTIONS",
    preflight: true,
  }],
  ["sibling port, fetch", { origin: "http://127.0.0.1:9000", site: "same-site", mode: "cors" }],
  ["sibling port, img", { site: "same-site", mode: "no-cors", dest: "image" }],
  ["sandboxed frame", { origin: "null", site: "cross-site", mode: "cors", method: "POST" }],
  ["old browser POST", { origin: EVIL, method: "POST" }],
  ["own origin named, cross-site", { origin: GATEWAY, site: "cross-site", mode: "cors" }],
];

Deno.test("without cors: every kind of request from another origin is refused before the handler", async () => {
  const { app, reached } = guarded();
  for (const [kind, sent] of CROSS_ORIGIN) {
    assert.equal(await status(app, sent), 403, kind);
  }
  assert.deepEqual(reached, []);
});

Deno.test("with cors: every kind from an unlisted origin is refused, without CORS headers", async () => {
  const { app, reached } = guarded({ origins: [APP], credentials: true });
  for (const [kind, sent] of CROSS_ORIGIN) {
    const response = await app.request(request(sent));
    assert.equal(response.status, 403, kind);
    assert.equal(response.headers.get("access-control-allow-origin"), null, kind);
    assert.equal(response.headers.get("content-type"), "application/json", kind);
    assert.equal((await response.json()).error.type, "forbidden", kind);
  }
  assert.deepEqual(reached, []);
});

Deno.test("programs, the gateway's own origin and old browsers' same-origin requests are served", async () => {
  for (const cors of [undefined, { origins: [APP] }]) {
    const { app, reached } = guarded(cors);
    const served: [string, Sent][] = [
      ["curl, SDK on a server", { method: "POST" }],
      // Node's fetch (undici) sends `sec-fetch-mode: cors` on every request, but no site.
      ["Node's fetch", { mode: "cors", method: "POST" }],
      ["same-origin fetch", { origin: GATEWAY, site: "same-origin", mode: "cors", method: "POST" }],
      ["same-origin img", { site: "same-origin", mode: "no-cors", dest: "image" }],
      ["same-origin form", {
        origin: GATEWAY,
        site: "same-origin",
        mode: "navigate",
        dest: "iframe",
        method: "POST",
      }],
      ["same-origin link", { site: "same-origin", mode: "navigate", dest: "document" }],
      ["old browser, same origin", { origin: GATEWAY, method: "POST" }],
    ];
    for (const [kind, sent] of served) {
      const response = await app.request(request(sent));
      assert.equal(response.status, 200, kind);
      // Same-origin answers need no CORS headers.
      assert.deepEqual(await response.json(), {}, kind);
    }
    assert.equal(reached.length, served.length);
  }
});

Deno.test("an origin that only looks like the gateway's is another origin", async () => {
  const { app } = guarded();
  for (const origin of ["http://127.0.0.1:80", "http://127.0.0.1:808", "https://127.0.0.1:8080"]) {
    assert.equal(await status(app, { origin, method: "POST" }), 403, origin);
  }
});

Deno.test("a tab opens the gateway's own pages from anywhere, and no route", async () => {
  for (const cors of [undefined, { origins: [APP] }]) {
    const { app } = guarded(cors);
    const tab = (site: Sent["site"], path: string, extra: Sent = {}) =>
      status(app, { site, mode: "navigate", dest: "document", path, ...extra });
    for (const site of ["none", "cross-site", "same-site"] as const) {
      assert.equal(await tab(site, "/healthz"), 200, site);
      assert.equal(await tab(site, "/keyward/status"), 200, site);
      assert.equal(await tab(site, "/healthz", { method: "HEAD" }), 200, site);
      assert.equal(await tab(site, "/r/x"), 403, `${site} navigation to a route`);
      assert.equal(await tab(site, "/healthz", { dest: "iframe" }), 403, `${site} frame`);
      assert.equal(await tab(site, "/healthz", { method: "POST" }), 403, `${site} POST`);
    }
    assert.equal(await tab("none", "/nowhere"), 403);
    // An image of the health page is not a tab.
    assert.equal(await status(app, { site: "cross-site", mode: "no-cors", path: "/healthz" }), 403);
  }
});

Deno.test("a listed origin is served with the CORS headers it needs; its no-cors loads are not", async () => {
  const { app, reached } = guarded({ origins: [APP], credentials: true });
  for (
    const sent of [
      { origin: APP, site: "cross-site", mode: "cors", method: "POST" },
      { origin: APP, site: "cross-site", mode: "cors", dest: "empty" },
      { origin: APP, site: "cross-site", mode: "no-cors", method: "POST" },
      { origin: APP, method: "POST" },
    ] satisfies Sent[]
  ) {
    const response = await app.request(request(sent));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      "access-control-allow-origin": APP,
      "access-control-allow-credentials": "true",
      "access-control-expose-headers":
        "x-request-id, x-keyward-visitor, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy",
      vary: "Origin",
    });
  }
  assert.equal(reached.length, 4);

  const preflight = await app.request(
    request({ origin: APP, site: "cross-site", mode: "cors", method: "OPTIONS", preflight: true }),
  );
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), APP);
  assert.equal(reached.length, 4, "the gateway answers preflights itself");

  // Nothing in an <img> or a no-cors GET says which page made it: refused.
  for (const dest of ["image", "script", "empty"]) {
    assert.equal(await status(app, { site: "cross-site", mode: "no-cors", dest }), 403, dest);
  }
  assert.equal(reached.length, 4);
});

Deno.test('"*" lets any page call: the guard refuses nothing', async () => {
  const { app } = guarded({ origins: ["*"] });
  for (const [kind, sent] of CROSS_ORIGIN) {
    const response = await app.request(request(sent));
    assert.ok(response.status === 200 || response.status === 204, kind);
    const added = response.status === 204
      ? response.headers.get("access-control-allow-origin")
      : (await response.json())["access-control-allow-origin"];
    assert.equal(added, sent.origin ? "*" : undefined, kind);
  }
  assert.equal(await status(app, { site: "none", mode: "navigate", dest: "document" }), 200);
});

const LENGTH = { "content-length": "100" };

Deno.test("every answer of the gateway, errors included, is readable by a listed origin", async () => {
  const { config } = loadConfigText(
    `server:
  cors: { origins: ["${APP}"], credentials: true }
routes:
  - name: small
    path: /small
    upstream: http://127.0.0.1:1
    key: { env: KEY }
    allow: ["POST /**"]
    limits: { body: 10b }
  - name: limited
    path: /limited
    upstream: http://127.0.0.1:1
    key: { env: KEY }
    allow: ["GET /**"]
    limits: { requests: 1/min }
  - name: nokey
    path: /nokey
    upstream: http://127.0.0.1:1
    key: { env: UNSET }
    allow: ["GET /**"]
`,
    "test.yaml",
    (name) => name === "KEY" ? "k-SECRET" : undefined,
  );
  const { app, close } = await buildGateway(config, {
    log: () => {},
    readers: { env: (name) => name === "KEY" ? "k-SECRET" : undefined, file: () => "" },
  });
  try {
    const call = (path: string, init: RequestInit = {}) =>
      app.request(GATEWAY + path, {
        ...init,
        headers: {
          origin: APP,
          "sec-fetch-site": "cross-site",
          "sec-fetch-mode": "cors",
          ...init.headers,
        },
      });
    const answers: [number, Response][] = [
      [200, await call("/healthz")],
      [403, await call("/small/x", { method: "GET" })],
      [404, await call("/nowhere")],
      [413, await call("/small/x", { method: "POST", body: "x".repeat(100), headers: LENGTH })],
      [502, await call("/limited/first")],
      [429, await call("/limited/second")],
      [503, await call("/nokey/x")],
    ];
    for (const [expected, response] of answers) {
      assert.equal(response.status, expected);
      assert.equal(response.headers.get("access-control-allow-origin"), APP, `${expected}`);
      assert.equal(response.headers.get("access-control-allow-credentials"), "true");
      assert.match(response.headers.get("access-control-expose-headers")!, /retry-after/);
      assert.ok(response.headers.get("x-request-id"));
      assert.doesNotMatch(await response.text(), /k-SECRET/);
    }
  } finally {
    await close();
  }
});
