import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { compileJwt } from "./jwt.ts";

const SECRET = "a-secret-of-at-least-32-characters!!";

Deno.test("a remembered token is refused once it expires, and a forged one is never remembered", async () => {
  const verify = compileJwt({ secret: SECRET });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ routes: ["openai"] }).setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1").setExpirationTime(now + 60).sign(new TextEncoder().encode(SECRET));
  const first = await verify(token);
  assert.ok("client" in first && first.client === "user-1");
  assert.equal(await verify(token), first, "the second use is the remembered result");
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 120_000;
    assert.ok("refused" in await verify(token), "expired, remembered or not");
  } finally {
    Date.now = realNow;
  }
  const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
  assert.ok("refused" in await verify(forged));
  assert.ok("refused" in await verify(forged));
});
