/**
 * CORS answered by the gateway: preflights never reach the upstream, only configured origins
 * get CORS headers, and other origins are refused before they cost anything.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ConfigError, loadConfigText } from "../src/config/load.ts";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const APP = "http://localhost:3000";

Deno.test("cors: the gateway answers preflights and tags responses for configured origins only", async () => {
  const mock = await startMockUpstream();
  const gateway = await startGateway(
    `server:
  cors: { origins: ["${APP}"], credentials: true, max_age: 1h }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
`,
    { OPENAI_API_KEY: "sk-server" },
  );
  try {
    const preflight = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-stainless-os",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), APP);
    assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
    assert.match(preflight.headers.get("access-control-allow-methods")!, /POST/);
    assert.equal(
      preflight.headers.get("access-control-allow-headers"),
      "content-type, x-stainless-os",
    );
    assert.equal(preflight.headers.get("access-control-max-age"), "3600");
    assert.match(preflight.headers.get("vary")!, /Origin/);
    assert.equal(mock.requests.length, 0, "the preflight never reached the upstream");

    const call = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { origin: APP, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [] }),
    });
    assert.equal(call.status, 200);
    await call.body?.cancel();
    assert.equal(call.headers.get("access-control-allow-origin"), APP);
    assert.match(call.headers.get("access-control-expose-headers")!, /x-request-id/);

    for (const method of ["OPTIONS", "POST"]) {
      const evil = await fetch(`${gateway.url}/openai/v1/chat/completions`, {
        method,
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
        body: method === "POST" ? "{}" : undefined,
      });
      assert.equal(evil.status, 403);
      assert.equal(evil.headers.get("access-control-allow-origin"), null);
      await evil.body?.cancel();
    }
    assert.equal(mock.requests.length, 1);

    // Server-side callers send no Origin and are not affected.
    const server = await fetch(`${gateway.url}/openai/v1/models`);
    assert.equal(server.status, 200);
    assert.equal(server.headers.get("access-control-allow-origin"), null);
    await server.body?.cancel();
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test('cors: "*" together with credentials is refused at load', () => {
  assert.throws(
    () =>
      loadConfigText(
        `server:
  cors: { origins: ["*"], credentials: true }
routes:
  - { name: a, path: /a, upstream: "http://127.0.0.1:1", allow: ["GET /**"] }
`,
        "routes.yaml",
        () => undefined,
      ),
    (error: unknown) =>
      error instanceof ConfigError &&
      /2:\d+ .*"\*" cannot be used with credentials/.test(error.message),
  );
});
