import assert from "node:assert/strict";
import { Secret } from "./secret.ts";

Deno.test("Secret never prints its value", () => {
  const secret = new Secret("sk-live-abc123");
  assert.equal(`${secret}`, "[redacted]");
  assert.equal(String(secret), "[redacted]");
  assert.equal(JSON.stringify({ secret }), '{"secret":"[redacted]"}');
  assert.equal(Deno.inspect({ secret }).includes("sk-live"), false);
  assert.equal(Deno.inspect(secret, { showHidden: true }).includes("sk-live"), false);
  assert.equal("x" + secret, "x[redacted]");
  assert.equal(secret.reveal(), "sk-live-abc123");
});
