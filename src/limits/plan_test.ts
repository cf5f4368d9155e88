import assert from "node:assert/strict";
import { compileLimits, planFor } from "./plan.ts";

const minute = (limit: number) => ({ limit, windowMs: 60_000 });

Deno.test("a client's own limits replace the route's field by field, for that client only", () => {
  const limits = compileLimits({ requests: minute(10), concurrent: 2, body: 1000 }, [
    { id: "alice", token: "a", limits: { requests: minute(100) } },
    { id: "bob", token: "b" },
  ]);
  assert.deepEqual(planFor(limits, "alice", true), {
    requests: minute(100),
    tokens: undefined,
    spend: undefined,
    concurrent: 2,
    body: 1000,
    session: undefined,
  });
  assert.equal(planFor(limits, "bob", true), limits.base);
  // An IP that happens to equal a client id is not that client.
  assert.equal(planFor(limits, "alice", false), limits.base);
  assert.ok(limits.counted && limits.capped && !limits.tokens);
});

Deno.test("a client's token budget applies only where the route reports usage", () => {
  const clients = [{ id: "alice", token: "a", limits: { tokens: minute(500) } }];
  assert.ok(compileLimits(undefined, clients, true).tokens);
  const noUsage = compileLimits(undefined, clients, false);
  assert.ok(!noUsage.tokens && !noUsage.counted);
});

Deno.test("the route's ceiling counts, and a client's spend budget needs usage as tokens do", () => {
  const clients = [{ id: "alice", token: "a", limits: { spend: minute(500) } }];
  const ceiling = compileLimits({ route: { requests: minute(1000) } }, []);
  assert.ok(ceiling.counted && !ceiling.tokens && !ceiling.spend);
  assert.ok(compileLimits({ route: { spend: minute(10) } }, []).spend);
  assert.equal(compileLimits(undefined, clients, true).byClient.get("alice")?.spend?.limit, 500);
  const noUsage = compileLimits(undefined, clients, false);
  assert.ok(!noUsage.spend && noUsage.byClient.get("alice")?.spend === undefined);
});
