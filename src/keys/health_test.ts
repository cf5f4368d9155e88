import assert from "node:assert/strict";
import { KeyHealth, retryAfterMs, REVOKED_RETRY_MS } from "./health.ts";
import { Secret } from "./secret.ts";

const key = (origin: string) => ({ origin, secret: new Secret(origin) });

Deno.test("Retry-After is read as seconds or as an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs("7", now), 7000);
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
  assert.equal(retryAfterMs("soon", now), undefined);
  assert.equal(retryAfterMs(null, now), undefined);
});

Deno.test("set-aside keys come back when due, and a dead pool still tries its soonest key", () => {
  let now = 1_000_000;
  const [a, b] = [key("env:A"), key("env:B")];
  const health = new KeyHealth([a, b], () => now);
  assert.deepEqual([health.pick(), health.pick(), health.pick()], [a, b, a]);
  health.report(a, 401, null);
  assert.deepEqual([health.pick(), health.pick()], [b, b]);
  health.report(b, 429, "10");
  assert.equal(health.pick(), b, "both set aside: the one due back first");
  assert.equal(health.pick(b), undefined, "no other key to retry on");
  now += REVOKED_RETRY_MS;
  assert.deepEqual(new Set([health.pick(), health.pick()]), new Set([a, b]));
  health.report(a, 200, null);
  assert.equal(health.status()[0].state, "healthy");
});
