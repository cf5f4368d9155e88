import assert from "node:assert/strict";
import { checkPath } from "./path.ts";

Deno.test("checkPath passes ordinary paths unchanged", () => {
  assert.deepEqual(checkPath("/v1/chat/completions"), {
    ok: true,
    decoded: "/v1/chat/completions",
    normal: "/v1/chat/completions",
  });
  assert.deepEqual(checkPath("/v1/models/a%3Ab"), {
    ok: true,
    decoded: "/v1/models/a:b",
    normal: "/v1/models/a%3Ab",
  });
  assert.deepEqual(checkPath("/v1/models/hello%20world"), {
    ok: true,
    decoded: "/v1/models/hello world",
    normal: "/v1/models/hello%20world",
  });
});

Deno.test("checkPath gives escapes of reserved characters in upper case, the normal form", () => {
  assert.deepEqual(checkPath("/v1/models/a%3ab%2bc%c3%a9"), {
    ok: true,
    decoded: "/v1/models/a:b+c\u00e9",
    normal: "/v1/models/a%3Ab%2Bc%C3%A9",
  });
});

Deno.test("checkPath refuses escaped unreserved characters, which only a decoder reads as the path", () => {
  for (
    const path of [
      "/%74asks/x",
      "/v1/%6Dodels",
      "/v1/gpt%2D4o",
      "/a%2Eb",
      "/a%5Fb",
      "/a%7eb",
      "/a%30",
    ]
  ) {
    const result = checkPath(path);
    assert.equal(result.ok, false, path);
    assert.match((result as { reason: string }).reason, /unreserved/, path);
  }
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
