import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { compileTokens, equalDigests, presentedToken } from "./token.ts";

Deno.test("tokens match their client whether given in clear or as sha256", () => {
  const match = compileTokens([
    { id: "alice", token: "alice-secret" },
    { id: "bob", token_sha256: createHash("sha256").update("bob-secret").digest("hex") },
  ]);
  assert.equal(match("alice-secret"), "alice");
  assert.equal(match("bob-secret"), "bob");
  assert.equal(match("bob-secret "), undefined);
  assert.equal(match(""), undefined);
});

Deno.test("a token is read from Authorization: Bearer or x-api-key, nothing else", () => {
  assert.equal(presentedToken(new Headers({ authorization: "Bearer abc" })), "abc");
  assert.equal(presentedToken(new Headers({ authorization: "bearer  abc " })), "abc");
  assert.equal(presentedToken(new Headers({ "x-api-key": "xyz" })), "xyz");
  assert.equal(presentedToken(new Headers({ authorization: "Basic abc" })), undefined);
  assert.equal(presentedToken(new Headers()), undefined);
});

Deno.test("digest comparison needs every byte equal", () => {
  assert.ok(equalDigests(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])));
  assert.ok(!equalDigests(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])));
  assert.ok(!equalDigests(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])));
});
