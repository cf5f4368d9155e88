import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { rawRequest } from "./helpers/raw_http.ts";

const CONFIG = (upstream: string) => `
routes:
  - name: openai
    path: /openai
    upstream: ${upstream}
    key: { env: KEY }
    allow:
      - POST /v1/chat/completions
      - GET /v1/models/*
`;

Deno.test("traversal and encoding tricks are refused on the wire and never forwarded", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(CONFIG(mock.url), { KEY: "sk-x" });
  try {
    // Each would, if decoded or normalised by the upstream, reach something outside the list.
    const tricks = [
      "/openai/v1/models/..%2f..%2ffiles",
      "/openai/v1/models/%2e%2e/%2e%2e/files",
      "/openai/v1/models/%2E%2E%2F%2E%2E%2Ffiles",
      "/openai/v1/models/%252e%252e%252f%252e%252e%252ffiles",
      "/openai/v1/models/..%5c..%5cfiles",
      "/openai/v1/models/..\\..\\files",
      "/openai/v1/models/a%2fb",
      "/openai/v1/models/a%00b",
      "/openai/v1/models/%2e%2e%5cfiles",
      "/openai/v1/models/.%2e",
      "/openai/v1/models/%c0%ae%c0%ae",
      "/openai/v1/models//files",
      "/openai%2fv1/models/x",
      "/open%61i/v1/models/x",
    ];
    for (const trick of tricks) {
      const response = await rawRequest(gw.url, "GET", trick);
      assert.ok(
        response.status === 400 || response.status === 403 || response.status === 404,
        `${trick} answered ${response.status}`,
      );
      if (response.status !== 404) assert.match(response.body, /"error":\{"type":"/, trick);
    }
    // Plain dot segments are resolved before routing: they land where they point, and that
    // place's own allow list (or lack of a route) decides.
    for (const trick of ["/openai/v1/models/../../files", "/openai/v1/models/./../files"]) {
      const response = await rawRequest(gw.url, "GET", trick);
      assert.equal(response.status, 403, trick);
    }
    const escape = await rawRequest(gw.url, "GET", "/openai/../../etc/passwd");
    assert.ok(escape.status === 400 || escape.status === 404, String(escape.status));
    assert.equal(mock.requests.length, 0, JSON.stringify(mock.requests));

    const fine = await rawRequest(gw.url, "GET", "/openai/v1/models/gpt-4o%3Amini");
    assert.equal(fine.status, 200);
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0].path, "/v1/models/gpt-4o%3Amini");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("path mode: what the allow list matched is what the upstream receives, or nothing is sent", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(CONFIG(mock.url), { KEY: "sk-x" });
  try {
    // A trailing slash the entry lacks can reach another handler upstream (Go's ServeMux takes
    // "/x/" for a subtree); an escaped unreserved character names the same path only to an
    // upstream that decodes it: both are refused rather than matched in one form and sent in
    // another.
    const refused: [string, string, number][] = [
      ["POST", "/openai/v1/chat/completions/", 403],
      ["GET", "/openai/v1/models/gpt-4o/", 403],
      ["GET", "/openai/v1/%6dodels/gpt-4o", 400],
      ["GET", "/openai/v1/models/gpt%2D4o", 400],
      ["GET", "/openai/v1/models/gpt-4o%7E1", 400],
      ["POST", "/openai/v1/chat/%63ompletions", 400],
    ];
    for (const [method, path, status] of refused) {
      const response = await rawRequest(gw.url, method, path, { "content-length": "0" });
      assert.equal(response.status, status, `${method} ${path}: ${response.body}`);
      assert.match(response.body, /"error":\{"type":"/, path);
    }
    assert.deepEqual(mock.requests.map((r) => `${r.method} ${r.url}`), []);

    // Escapes of reserved characters stay escaped, in the normal (upper-case) form.
    const fine = await rawRequest(gw.url, "GET", "/openai/v1/models/gpt-4o%3amini%2Bx");
    assert.equal(fine.status, 200, fine.body);
    assert.deepEqual(mock.requests.map((r) => r.url), ["/v1/models/gpt-4o%3Amini%2Bx"]);
  } finally {
    await gw.close();
    await mock.close();
  }
});
