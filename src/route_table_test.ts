import assert from "node:assert/strict";
import { RouteTable } from "./route_table.ts";

Deno.test("path routes take their prefix and everything under it; the longest prefix wins", () => {
  const table = new RouteTable<string>();
  table.add("/openai", "path", "openai");
  table.add("/openai/v2", "path", "v2");
  table.add("/api/inference/proxy", "target", "inference");
  assert.equal(table.find("/openai"), "openai");
  assert.equal(table.find("/openai/"), "openai");
  assert.equal(table.find("/openai/v1/chat/completions"), "openai");
  assert.equal(table.find("/openai/v2/models"), "v2");
  assert.equal(table.find("/openai/v2"), "v2");
  assert.equal(table.find("/openaiv1"), undefined);
  assert.equal(table.find("/api/inference/proxy"), "inference");
  assert.equal(table.find("/api/inference/proxy/x"), undefined, "target routes are exact");
  assert.equal(table.find("/"), undefined);
});

Deno.test("a route at / takes what no other route does", () => {
  const table = new RouteTable<string>();
  table.add("/", "path", "root");
  table.add("/a", "path", "a");
  assert.equal(table.find("/a/b"), "a");
  assert.equal(table.find("/b/c"), "root");
  assert.equal(table.find("/"), "root");
});
