import assert from "node:assert/strict";
import { compileAllow, parseAllowEntry } from "./allow.ts";

Deno.test("compileAllow matches exact paths per method", () => {
  const allowed = compileAllow(["POST /v1/chat/completions"]);
  assert.equal(allowed("POST", "/v1/chat/completions"), true);
  assert.equal(allowed("POST", "/v1/chat/completions/"), true);
  assert.equal(allowed("GET", "/v1/chat/completions"), false);
  assert.equal(allowed("POST", "/v1/chat/completionsX"), false);
  assert.equal(allowed("POST", "/v1/chat"), false);
  assert.equal(allowed("POST", "/v1/chat/completions/extra"), false);
});

Deno.test("* matches within one segment, never across", () => {
  const allowed = compileAllow(["GET /v1/models/*", "POST /v1beta/models/*:generateContent"]);
  assert.equal(allowed("GET", "/v1/models/gpt-4o"), true);
  assert.equal(allowed("GET", "/v1/models/"), false);
  assert.equal(allowed("GET", "/v1/models/a/b"), false);
  assert.equal(allowed("POST", "/v1beta/models/gemini-pro:generateContent"), true);
  assert.equal(allowed("POST", "/v1beta/models/x/y:generateContent"), false);
  assert.equal(allowed("POST", "/v1beta/models/gemini:embedContent"), false);
});

Deno.test("** matches any number of segments, none included", () => {
  const allowed = compileAllow(["GET /files/**"]);
  assert.equal(allowed("GET", "/files"), true);
  assert.equal(allowed("GET", "/files/a/b/c"), true);
  assert.equal(allowed("GET", "/filesystem"), false);
  assert.equal(allowed("GET", "/other/files/a"), false);
});

Deno.test("GET allows HEAD, * allows every method, regex characters are literal", () => {
  const allowed = compileAllow(["GET /a.b", "* /any/**"]);
  assert.equal(allowed("HEAD", "/a.b"), true);
  assert.equal(allowed("GET", "/aXb"), false);
  assert.equal(allowed("DELETE", "/any/thing"), true);
  assert.equal(allowed("DELETE", "/a.b"), false);
});

Deno.test("parseAllowEntry refuses malformed entries", () => {
  assert.throws(() => parseAllowEntry("/v1/chat"), /use "METHOD \/path\/glob"/);
  assert.throws(() => parseAllowEntry("FETCH /v1"), /unknown method FETCH/);
  assert.throws(() => parseAllowEntry("GET v1"), /must start with \//);
  assert.throws(() => parseAllowEntry("GET /a**"), /must be a whole segment/);
  assert.throws(() => parseAllowEntry("GET /a/../b"), /dot segments/);
});
