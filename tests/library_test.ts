import assert from "node:assert/strict";
import { ConfigError, createGateway, type RequestRecord } from "../mod.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { startRawUpstream } from "./helpers/raw_upstream.ts";
import { serveLoopback } from "./helpers/serve.ts";

function yaml(upstream: string): string {
  return `
routes:
  - name: tenant
    path: /api/ai
    upstream: ${upstream}
    key: { env: KW_LIBRARY_UNSET_KEY }
    allow: ["POST /v1/chat/completions"]
`;
}

const chat = { method: "POST", body: JSON.stringify({ model: "m", messages: [] }) };

Deno.test("hooks: authorize decides who calls, resolveKey supplies each tenant's key", async () => {
  const mock = await startMockUpstream();
  const logs: RequestRecord[] = [];
  const gateway = await createGateway(yaml(mock.url), {
    authorize(request) {
      const session = request.headers.get("cookie")?.match(/session=(\w+)/)?.[1];
      if (session === "banned") return new Response("go away", { status: 418 });
      return session ? `user-${session}` : false;
    },
    resolveKey(route, request) {
      assert.equal(route.name, "tenant");
      assert.equal(route.upstreamUrl.pathname, "/v1/chat/completions");
      const tenant = request.headers.get("x-tenant");
      return tenant ? `sk-tenant-${tenant}` : undefined;
    },
  }, { log: (record) => logs.push(structuredClone(record)) });
  try {
    const call = (headers: Record<string, string>) =>
      gateway.fetch(new Request("http://app/api/ai/v1/chat/completions", { ...chat, headers }));

    const nobody = await call({});
    assert.equal(nobody.status, 401);
    assert.equal((await nobody.json()).error.type, "unauthorized");
    assert.equal((await call({ cookie: "session=banned" })).status, 418);
    assert.equal(mock.requests.length, 0, "refused requests never reach the upstream");

    const ok = await call({ cookie: "session=alice", "x-tenant": "acme" });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-tenant-acme");
    assert.equal(mock.requests[0].headers.cookie, undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(logs.at(-1)?.client, "user-alice");

    const keyless = await call({ cookie: "session=bob" });
    assert.equal(keyless.status, 503, "no hook key and no configured key");
    assert.equal((await keyless.json()).error.type, "key_unavailable");
  } finally {
    await mock.close();
  }
});

Deno.test("createGateway takes YAML text, a file path and an object alike", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/routes.yaml`;
  await Deno.writeTextFile(path, yaml(mock.url));
  const object = {
    routes: [{
      name: "tenant",
      path: "/api/ai",
      upstream: mock.url,
      key: { env: "KW_LIBRARY_UNSET_KEY" },
      allow: ["POST /v1/chat/completions"],
    }],
  };
  const hooks = { resolveKey: () => "sk-hook" };
  try {
    for (const input of [yaml(mock.url), path, new URL(`file://${path}`), object]) {
      const gateway = await createGateway(input, hooks, { log: () => {} });
      assert.equal(gateway.config.routes[0].name, "tenant");
      const response = await gateway.fetch(
        new Request("http://app/api/ai/v1/chat/completions", chat),
      );
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    assert.equal(mock.requests.length, 4);
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createGateway rejects a bad config with a ConfigError naming the place", async () => {
  await assert.rejects(
    () => createGateway("routes:\n  - name: x\n    path: /x\n    upstrem: https://a.example\n"),
    (error: unknown) =>
      error instanceof ConfigError && /:4:5 .*upstrem.*upstream/s.test(error.message),
  );
  await assert.rejects(
    () => createGateway({ routes: [{ name: "x", path: "x" }] }),
    (error: unknown) => error instanceof ConfigError && error.issues.length > 0,
  );
});

Deno.test("library: the connection info passed to fetch names the client of auth: none routes", async () => {
  const mock = await startMockUpstream();
  const gateway = await createGateway(
    `routes:
  - name: api
    path: /api
    upstream: ${mock.url}
    allow: ["GET /**"]
    limits: { requests: 1/hour }
`,
    undefined,
    { log: () => {} },
  );
  const call = async (hostname: string) => {
    const response = await gateway.fetch(new Request("http://gateway.test/api/x"), {
      remoteAddr: { transport: "tcp", hostname, port: 1234 },
    });
    await response.body?.cancel();
    return response.status;
  };
  try {
    assert.deepEqual(
      [await call("198.51.100.1"), await call("198.51.100.1"), await call("198.51.100.2")],
      [200, 429, 200],
    );
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("library on Deno: a POST the upstream read and dropped unanswered is a 502, sent once", async () => {
  // Deno's fetch sends such a POST again on a new connection; the library's default client
  // on Deno is keyward's own, which resends only idempotent requests.
  const upstream = startRawUpstream(async (conn) => {
    for (let request = await conn.request(); request; request = await conn.request()) {
      if (conn.index === 0 && request.method === "POST") return; // read, then dropped
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  const gateway = await createGateway(
    `
routes:
  - name: up
    path: /up
    upstream: ${upstream.url}
    allow: ["GET /warm", "POST /charge"]
`,
    undefined,
    { log: () => {} },
  );
  // Mounted in a Deno app as users do, so requests arrive as a real client sends them.
  const app = await serveLoopback((request, info) => gateway.fetch(request, info));
  try {
    const warm = await fetch(`${app.url}/up/warm`);
    assert.equal(await warm.text(), "ok");
    const charge = await fetch(`${app.url}/up/charge`, { method: "POST", body: '{"n":1}' });
    await charge.body?.cancel();
    assert.equal(charge.status, 502);
    const posts = upstream.requests.filter((request) => request.method === "POST");
    assert.equal(posts.length, 1, "the upstream saw the POST once");
    assert.equal(posts[0].connection, 0, "it went out on the kept-alive connection");
  } finally {
    await app.close();
    await gateway.close();
    await upstream.close();
  }
});

Deno.test("hooks: a key the route sends in the query never shows in the URL a hook was given", async () => {
  const mock = await startMockUpstream();
  let seen: URL | undefined;
  const gateway = await createGateway(
    `
routes:
  - name: query_key
    path: /api/ai
    upstream: ${mock.url}
    key: { env: KW_LIBRARY_QUERY_KEY, query: key }
    allow: ["POST /v1/chat/completions"]
`,
    {
      resolveKey(route) {
        seen = route.upstreamUrl; // kept, as an app may keep it for its own logs
        return "sk-query-Hq5Wm2Lp8";
      },
    },
  );
  const answer = await gateway.fetch(new Request("http://app/api/ai/v1/chat/completions", chat));
  assert.equal(answer.status, 200);
  await answer.body?.cancel();
  await mock.close();
  assert.equal(mock.requests[0].url, "/v1/chat/completions?key=sk-query-Hq5Wm2Lp8");
  assert.ok(seen && !seen.href.includes("sk-query"), `${seen}`);
});
