import assert from "node:assert/strict";
import { checkPath } from "./path.ts";

Deno.test("checkPath passes ordinary paths unchanged", () => {
  assert.deepEqual(checkPath("/v1/chat/completions"), {
    ok: true,
    decoded: "/v1/chat/completions",
  });
  assert.deepEqual(checkPath("/v1/models/a%3Ab"), { ok: true, decoded: "/v1/models/a:b" });
  assert.deepEqual(checkPath("/v1/models/hello%20world"), {
    ok: true,
    decoded: "/v1/models/hello world",
  });
});

Deno.test("checkPath refuses every encoding of a separator or dot segment", () => {
  const tricks = [
    "/v1/..%2Ffiles",
    "/v1/%2e%2e/files",
    "/v1/%2E%2E%2Ffiles",
    "/v1/.%2e/files",
    "/v1/%252e%252e/files",
    "/v1/%25252e%25252e/files",
    "/v1/a%2fb",
    "/v1/a%5cb",
    "/v1/a%255cb",
    "/v1/a\\b",
    "/v1/../files",
    "/v1/./files",
    "/v1/a%00b",
    "/v1/%zz",
    "/v1//files",
    "/v1/%252fetc",
  ];
  for (const trick of tricks) {
    const result = checkPath(trick);
    assert.equal(result.ok, false, `${trick} must be refused`);
  }
});
