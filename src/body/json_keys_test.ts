import assert from "node:assert/strict";
import { repeatedKey } from "./json_keys.ts";

Deno.test("repeatedKey finds a key twice in one object, at any depth", () => {
  assert.equal(repeatedKey('{"app":"a","input":{},"app":"b"}'), "app");
  assert.equal(repeatedKey('{"input":{"x":1,"y":[{"z":1,"z":2}]}}'), "z");
  assert.equal(repeatedKey('{"files":[{"size":1,"size":2}]}'), "size");
  assert.equal(repeatedKey('{"a":1,"\\u0061":2}'), "a", "escapes are decoded");
});

Deno.test("repeatedKey passes distinct keys, equal keys in other objects, and strings", () => {
  assert.equal(repeatedKey('{"a":{"x":1},"b":{"x":2}}'), undefined);
  assert.equal(repeatedKey('{"a":"\\"a\\":1,","b":["a","a"]}'), undefined);
  assert.equal(repeatedKey('{"App":1,"app":2}'), undefined, "folding is the policy's concern");
  assert.equal(repeatedKey("[1,2,{}]"), undefined);
  assert.equal(repeatedKey('{"a":[{"b":1},{"b":1}],"c":{"a":1}}'), undefined);
});
