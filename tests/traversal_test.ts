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
