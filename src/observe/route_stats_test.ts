import assert from "node:assert/strict";
import { MemoryStore } from "../store/memory.ts";
import type { RequestRecord } from "./log.ts";
import { RouteStats } from "./route_stats.ts";

const record = (route: string | undefined, status: number, tokens?: number): RequestRecord => ({
  time: new Date().toISOString(),
  id: "x",
  route,
  method: "POST",
  path: "/x",
  status,
  duration_ms: 1,
  ...(tokens ? { tokens: { input: 0, output: tokens, total: tokens } } : {}),
});

Deno.test("route stats: requests, errors and tokens per route, written before they are read", async () => {
  const store = new MemoryStore();
  const stats = new RouteStats(store);
  stats.record(record("chat", 200, 12));
  stats.record(record("chat", 429));
  stats.record(record("chat", 502));
  stats.record(record("other", 200, 3));
  stats.record(record(undefined, 404)); // no route matched: not counted anywhere
  // Nothing is written per request: the counts wait for the batch.
  assert.deepEqual((await store.readRouteCounts("chat", 5 * 60_000, 1))[0], {
    requests: 0,
    errors: 0,
    tokens: 0,
    spend: 0,
  });
  const chat = await stats.read("chat");
  assert.deepEqual(chat.hour.total, { requests: 3, errors: 2, tokens: 12, spend_usd: 0 });
  assert.deepEqual(chat.day.total, { requests: 3, errors: 2, tokens: 12, spend_usd: 0 });
  assert.equal(chat.hour.points.length, 12);
  assert.equal(chat.hour.bucket_ms, 5 * 60_000);
  assert.equal(chat.day.points.length, 24);
  assert.deepEqual((await stats.read("other")).hour.total, {
    requests: 1,
    errors: 0,
    tokens: 3,
    spend_usd: 0,
  });
  // Read again: counted once.
  assert.deepEqual((await stats.read("chat")).hour.total, {
    requests: 3,
    errors: 2,
    tokens: 12,
    spend_usd: 0,
  });
  await store.close();
});
