import assert from "node:assert/strict";
import { parseAllowEntry } from "../config/allow_entry.ts";
import { compileAllow } from "./allow_list.ts";

Deno.test("compileAllow matches exact paths per method", () => {
  const allowed = compileAllow(["POST /v1/chat/completions"]);
  assert.equal(allowed("POST", "/v1/chat/completions"), true);
  // a trailing slash the entry lacks may reach another handler upstream: no match
  assert.equal(allowed("POST", "/v1/chat/completions/"), false);
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

Deno.test("a trailing slash matches an entry that ends in one, or a subtree", () => {
  const allowed = compileAllow(["POST /tokens/", "GET /files/**", "GET /x/{id:[a-z]+}/", "GET /"]);
  assert.equal(allowed("POST", "/tokens/"), true);
  assert.equal(allowed("POST", "/tokens"), false);
  assert.equal(allowed("GET", "/files/"), true);
  assert.equal(allowed("GET", "/files/a/b/"), true);
  assert.equal(allowed("GET", "/x/abc/"), true);
  assert.equal(allowed("GET", "/x/abc"), false);
  assert.equal(allowed("GET", "/"), true);
  assert.equal(allowed("GET", "//"), false);
});

Deno.test("head: false keeps HEAD out of GET entries", () => {
  const allowed = compileAllow(["GET /tasks/{ulid}", "GET /a/**"], { head: false });
  assert.equal(allowed("GET", `/tasks/${TASK}`), true);
  assert.equal(allowed("HEAD", `/tasks/${TASK}`), false);
  assert.equal(allowed("HEAD", "/a/b"), false);
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

const TASK = "01j9z3m8k2c9v7b4n6q5r0t1wx";

Deno.test("{ulid} matches an id and never the literal routes beside it", () => {
  const allowed = compileAllow(["GET /tasks/{ulid}", "GET /tasks/{ulid}/stream"]);
  assert.equal(allowed("GET", `/tasks/${TASK}`), true);
  assert.equal(allowed("HEAD", `/tasks/${TASK}`), true);
  assert.equal(allowed("GET", `/tasks/${TASK}/`), false);
  assert.equal(allowed("GET", `/tasks/${TASK}/stream`), true);
  for (
    const id of [
      "stream",
      "featured",
      "queue-stats",
      "list",
      TASK.toUpperCase(),
      TASK.slice(1),
      `${TASK}0`,
      "abcdefghijklmnopqrstuvwxyz",
      `${TASK.slice(0, 25)}_`,
      `8${TASK.slice(1)}`, // past the largest ULID time
      `${TASK.slice(0, 25)}u`, // not Crockford base32
    ]
  ) {
    assert.equal(allowed("GET", `/tasks/${id}`), false, id);
    assert.equal(allowed("GET", `/tasks/${id}/stream`), false, id);
  }
  assert.equal(allowed("GET", `/tasks/stream/stream`), false);
});

Deno.test("{uuid} matches a lowercase UUID only", () => {
  const allowed = compileAllow(["POST /v1/runs/{uuid}/cancel"]);
  assert.equal(allowed("POST", "/v1/runs/123e4567-e89b-12d3-a456-426614174000/cancel"), true);
  assert.equal(allowed("POST", "/v1/runs/123E4567-E89B-12D3-A456-426614174000/cancel"), false);
  assert.equal(allowed("POST", "/v1/runs/list/cancel"), false);
});

Deno.test("{name:REGEX} matches one whole segment, never across a slash", () => {
  const allowed = compileAllow([
    "GET /agents/{ns:[a-z]+}/{name:(?!(?:card|versions)$)[a-z0-9.@-]+}",
    "POST /jobs/{id:.+}",
    "* /any/{x:a|b}/end",
  ]);
  assert.equal(allowed("GET", "/agents/ana/helper"), true);
  assert.equal(allowed("GET", "/agents/ana/helper@v1"), true);
  assert.equal(allowed("GET", "/agents/ana/helper@v1/"), false);
  assert.equal(allowed("GET", "/agents/ana/card"), false);
  assert.equal(allowed("GET", "/agents/ana/versions"), false);
  assert.equal(allowed("GET", "/agents/Ana/helper"), false);
  assert.equal(allowed("GET", "/agents/ana"), false);
  assert.equal(allowed("GET", "/agents/ana/helper/x"), false);
  assert.equal(allowed("POST", "/jobs/7"), true);
  assert.equal(allowed("POST", "/jobs/7/delete"), false, ".+ stays within its segment");
  assert.equal(allowed("POST", "/jobs/"), false);
  assert.equal(allowed("DELETE", "/any/a/end"), true);
  assert.equal(allowed("DELETE", "/any/ab/end"), false, "the alternation is anchored whole");
  assert.equal(allowed("GET", "/agents//helper"), false);
});

Deno.test("parseAllowEntry refuses malformed segment patterns", () => {
  assert.throws(() => parseAllowEntry("GET /tasks/{id}"), /unknown segment pattern \{id\}/);
  assert.throws(() => parseAllowEntry("GET /tasks/x{ulid}"), /must be a whole segment/);
  assert.throws(() => parseAllowEntry("GET /tasks/{ulid}x"), /must be a whole segment/);
  assert.throws(() => parseAllowEntry("GET /tasks/{ulid"), /\{ without \}/);
  assert.throws(() => parseAllowEntry("GET /tasks/ulid}"), /\} without \{/);
  assert.throws(() => parseAllowEntry("GET /a/{x:a/b}"), /cannot match \//);
  assert.throws(() => parseAllowEntry("GET /a/{x:(}"), /cannot compile \{x:…\}/);
  assert.throws(() => parseAllowEntry("GET /a/{:[a-z]+}"), /needs a name/);
  assert.throws(() => parseAllowEntry("GET /a/{x:}"), /has no regular expression/);
  assert.throws(() => parseAllowEntry("GET /a/**/{x:[a-z]+}"), /\*\* cannot be combined/);
  assert.equal(parseAllowEntry("GET /a/{x:[a-z]{2}}").segments.length, 2);
});

Deno.test("entries sharing leading segments match exactly as they would alone", () => {
  const entries = ["GET /", "GET /a", "GET /a/**", "GET /a/b/c", "GET /a/*/d", "GET /x/{ulid}/y"];
  const together = compileAllow(entries);
  const alone = entries.map((entry) => compileAllow([entry]));
  for (
    const path of [
      "/",
      "//",
      "/a",
      "/a/",
      "/a/b",
      "/a/b/c",
      "/a/q/d",
      "/ab",
      "/x",
      `/x/${TASK}/y`,
      `/x/${TASK}`,
      "/x/stream/y",
      "/b",
    ]
  ) {
    assert.equal(together("GET", path), alone.some((allowed) => allowed("GET", path)), path);
  }
});
