import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

async function setup() {
  const mock = await startMockUpstream();
  const port = new URL(mock.url).port;
  const gw = await startGateway(
    `
routes:
  - name: inference
    path: /api/inference/proxy
    target:
      header: x-inf-target-url
      query: __inf_target
      hosts: ["127.0.0.1:${port}"]
    key: { env: INFERENCE_API_KEY }
    allow: ["POST /apps/run", "GET /tasks/*/stream", "GET /status/*"]
`,
    { INFERENCE_API_KEY: "inf-SECRET" },
  );
  return {
    mock,
    gw,
    port,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await mock.close();
    },
  };
}

Deno.test("target mode forwards to the named URL with the key and without the target header", async () => {
  await using ctx = await setup();
  const response = await fetch(`${ctx.gw.url}/api/inference/proxy`, {
    method: "POST",
    headers: {
      "x-inf-target-url": `${ctx.mock.url}/apps/run?x=1`,
      "content-type": "application/json",
      authorization: "Bearer user-session",
    },
    body: JSON.stringify({ app: "infsh/flux" }),
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true, path: "/apps/run", method: "POST" });
  const seen = ctx.mock.requests[0];
  assert.equal(seen.url, "/apps/run?x=1");
  assert.equal(seen.headers.authorization, "Bearer inf-SECRET");
  assert.equal(seen.headers["x-inf-target-url"], undefined);
});

Deno.test("the query fallback works for EventSource and is not forwarded", async () => {
  await using ctx = await setup();
  const target = encodeURIComponent(`${ctx.mock.url}/tasks/t1/stream`);
  const response = await fetch(`${ctx.gw.url}/api/inference/proxy?__inf_target=${target}`);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(ctx.mock.requests[0].url, "/tasks/t1/stream");
});

Deno.test("target mode refuses every host it should, and no request leaves", async () => {
  await using ctx = await setup();
  const p = ctx.port;
  const refused: [string, number][] = [
    [`http://user:pass@127.0.0.1:${p}/apps/run`, 400],
    [`http://user@127.0.0.1:${p}/apps/run`, 400],
    [`http://127.0.0.1:${p}@evil.example/apps/run`, 400],
    [`http://127.0.0.1:${p}/apps/run#frag`, 400],
    [`http://127.0.0.1:${Number(p) + 1}/apps/run`, 403],
    [`http://127.0.0.1/apps/run`, 403],
    [`http://localhost:${p}/apps/run`, 403],
    [`http://2130706433:${p}/apps/run`, 403],
    [`http://0x7f.0.0.1:${p}/apps/run`, 403],
    [`http://0177.0.0.1:${p}/apps/run`, 403],
    [`http://127.1:${p}/apps/run`, 403],
    [`http://127.0.0.1.:${p}/apps/run`, 403],
    [`http://[::ffff:127.0.0.1]:${p}/apps/run`, 400],
    [`http://%31%32%37.0.0.1:${p}/apps/run`, 403],
    [` http://127.0.0.1:${p}/apps/run`, 400],
    [`\thttp://127.0.0.1:${p}/apps/run`, 400],
    [`http:\\\\127.0.0.1:${p}/apps/run`, 400],
    [`http://evil.example/apps/run`, 400],
    [`https://evil.example/apps/run`, 403],
    [`https://127.0.0.1.evil.example/apps/run`, 403],
    [`ftp://127.0.0.1:${p}/apps/run`, 400],
    [`//127.0.0.1:${p}/apps/run`, 400],
    [`/apps/run`, 400],
    [`not a url`, 400],
    [`http://127.0.0.1:${p}/apps/..%2fapikeys`, 400],
    [`http://127.0.0.1:${p}/apikeys`, 403],
    [`http://127.0.0.1:${p}/apps/run/../../apikeys`, 400],
  ];
  for (const [target, status] of refused) {
    // Headers cannot carry leading whitespace; those tricks go through the query instead.
    const viaQuery = /^\s/.test(target);
    const response = await fetch(
      viaQuery
        ? `${ctx.gw.url}/api/inference/proxy?__inf_target=${encodeURIComponent(target)}`
        : `${ctx.gw.url}/api/inference/proxy`,
      {
        method: "POST",
        headers: viaQuery ? {} : { "x-inf-target-url": target },
        body: "{}",
      },
    );
    assert.equal(response.status, status, `${JSON.stringify(target)} answered ${response.status}`);
    const json = await response.json();
    assert.ok(json.error.type === "invalid_request" || json.error.type === "forbidden");
  }
  const missing = await fetch(`${ctx.gw.url}/api/inference/proxy`, { method: "POST" });
  assert.equal(missing.status, 400);
  await missing.body?.cancel();
  assert.equal(ctx.mock.requests.length, 0, JSON.stringify(ctx.mock.requests));
});

Deno.test("wildcard hosts match subdomains only, and ports must match exactly", async () => {
  const { compileTarget } = await import("../src/rules/target.ts");
  const resolve = compileTarget({ header: "x-t", hosts: ["*.inference.sh", "fal.run:8443"] });
  const check = (url: string) => resolve(new URL("http://gw/"), new Headers({ "x-t": url })).ok;
  assert.equal(check("https://api.inference.sh/apps/run"), true);
  assert.equal(check("https://a.b.inference.sh/x"), true);
  assert.equal(check("https://inference.sh/x"), false);
  assert.equal(check("https://evilinference.sh/x"), false);
  assert.equal(check("https://api.inference.sh:8443/x"), false);
  assert.equal(check("https://api.inference.sh:443/x"), true);
  assert.equal(check("https://fal.run:8443/x"), true);
  assert.equal(check("https://fal.run/x"), false);
  assert.equal(check("http://api.inference.sh/x"), false);
});

Deno.test("target mode: what the allow list matched is what the upstream receives, or nothing is sent", async () => {
  await using ctx = await setup();
  const base = ctx.mock.url;
  const task = "t1";
  const refused: [string, string, number][] = [
    // a trailing slash the entry lacks: another handler upstream, not this one
    ["POST", `${base}/apps/run/`, 403],
    ["GET", `${base}/status/x/`, 403],
    // dot segments, which the URL parser would resolve before matching
    ["POST", `${base}/apps/run/.`, 400],
    ["POST", `${base}/apps/run/%2e`, 400],
    ["POST", `${base}/apps/./run`, 400],
    ["POST", `${base}/apps/run/x/..`, 400],
    ["GET", `${base}/tasks/${task}/%2E/stream`, 400],
    ["POST", `${base}/apps/run/../../apikeys`, 400],
    // escaped unreserved characters: matched decoded, sent escaped
    ["POST", `${base}/%61pps/run`, 400],
    ["GET", `${base}/tasks/${task}/%73tream`, 400],
    ["GET", `${base}/status/%7E`, 400],
  ];
  for (const [method, target, status] of refused) {
    const response = await fetch(`${ctx.gw.url}/api/inference/proxy`, {
      method,
      headers: { "x-inf-target-url": target },
      body: method === "POST" ? "{}" : undefined,
    });
    assert.equal(response.status, status, `${method} ${target}`);
    await response.body?.cancel();
  }
  assert.deepEqual(ctx.mock.requests.map((r) => `${r.method} ${r.url}`), []);

  // The normal form goes: escapes of reserved characters in upper case.
  const fine = await fetch(`${ctx.gw.url}/api/inference/proxy`, {
    headers: { "x-inf-target-url": `${base}/status/a%3ab` },
  });
  assert.equal(fine.status, 200);
  await fine.body?.cancel();
  assert.deepEqual(ctx.mock.requests.map((r) => r.url), ["/status/a%3Ab"]);
});
