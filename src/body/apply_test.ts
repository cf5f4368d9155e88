import assert from "node:assert/strict";
import { prng, topLevel, write } from "../../tests/helpers/json_bodies.ts";
import type { UsageFormat } from "../config/presets/mod.ts";
import type { BodyRulesConfig } from "../config/types.ts";
import { applyBodyRules } from "./apply.ts";
import { messageText } from "./message_text.ts";
import { type BodyRules, compileBodyRules } from "./rules.ts";
import { SPLICE_ROOM } from "./splice.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CASES: [BodyRulesConfig | undefined, UsageFormat | undefined, boolean, string][] = [
  [{ models: ["gpt-4o-mini", "Hello"], max_tokens: 100 }, "openai", false, "/v1/chat/completions"],
  [{ max_tokens: 50 }, "gemini", false, "/v1beta/models/gemini-2.0-flash:generateContent"],
  [{ max_tokens: 50 }, "anthropic", false, "/v1/messages"],
  [{ max_tokens: 70_000 }, undefined, false, "/x"],
  [undefined, "openai", true, "/v1/chat/completions"],
  [{ deny: ["previous", "✓"], max_tokens: 10 }, "openai", true, "/v1/responses"],
  [{ models: ["gemini-2.0-flash"] }, "gemini", false, "/v1beta/models/gemini-2.0-flash:x"],
];

Deno.test("applyBodyRules over bytes gives what the rules give over JSON.parse, for every body", () => {
  let edited = 0;
  let refused = 0;
  for (const [config, format, countTokens, path] of CASES) {
    const rules = compileBodyRules(config, format, countTokens)!;
    for (let seed = 1; seed <= 700; seed++) {
      const r = prng(seed);
      const text = write(r, topLevel(r), false);
      // Half the bodies sit after free room (edits in place), half after bytes that must
      // stay as they are (edits that need room copy the body).
      const room = seed % 2 === 0 ? SPLICE_ROOM : 0;
      const buffer = new Uint8Array(SPLICE_ROOM + encoder.encode(text).byteLength).fill(0xaa);
      buffer.set(encoder.encode(text), SPLICE_ROOM);
      const bytes = buffer.subarray(SPLICE_ROOM);
      const context = `${JSON.stringify(config)} seed ${seed}: ${text.slice(0, 300)}`;
      // The reference: the whole body parsed, the rules applied to it.
      const reference = JSON.parse(text);
      const expected = rules.apply(reference, path, messageText(reference));
      const actual = applyBodyRules(bytes, rules, path, room);
      if (room === 0) {
        assert.ok(buffer.subarray(0, SPLICE_ROOM).every((b) => b === 0xaa), context);
      }
      if ("type" in expected) {
        assert.deepEqual(actual, expected, context);
        refused++;
        continue;
      }
      assert.ok("body" in actual, context);
      // What JSON.stringify would have sent (it drops what JSON cannot say).
      const sent = JSON.parse(JSON.stringify(reference));
      assert.deepEqual(JSON.parse(decoder.decode(actual.body)), sent, context);
      if (expected.changed.size === 0) {
        assert.equal(actual.body, bytes, `an untouched body goes as sent: ${context}`);
      } else edited++;
    }
  }
  assert.ok(edited > 1000 && refused > 300, `edited ${edited}, refused ${refused}`);
});

Deno.test("applyBodyRules: edits keep every other byte; added fields go after the brace", () => {
  const rules = compileBodyRules({ max_tokens: 100 }, "openai", false)!;
  const apply = (text: string, room = 0) => {
    const buffer = new Uint8Array(room + encoder.encode(text).byteLength);
    buffer.set(encoder.encode(text), room);
    const out = applyBodyRules(buffer.subarray(room), rules, "/v1/chat/completions", room);
    if (!("body" in out)) return out;
    // In place: the same memory, no copy of the body.
    if (room > 0) assert.equal(out.body.buffer, buffer.buffer);
    return decoder.decode(out.body);
  };
  assert.equal(
    apply('{ "max_tokens" : 9000 , "messages":[{"content":"é \\u00e9"}] }', SPLICE_ROOM),
    '{ "max_tokens" : 100  , "messages":[{"content":"é \\u00e9"}] }',
  );
  assert.equal(apply('{"messages":[]}'), '{"max_completion_tokens":100,"messages":[]}');
  assert.equal(
    apply(' \n{"messages":[]}', SPLICE_ROOM),
    ' \n{"max_completion_tokens":100,"messages":[]}',
  );
  assert.equal(apply("{ }", SPLICE_ROOM), '{"max_completion_tokens":100 }');
  assert.equal(
    apply('{"max_tokens":"a long string the clamp replaces"}'),
    '{"max_tokens":100}'.replace(
      "100",
      "100" + " ".repeat(31),
    ),
  );
  assert.deepEqual(apply('{"max_tokens":1,"max_tokens":9000}'), {
    type: "invalid_request",
    message: 'The request body repeats the key "max_tokens"',
  });
  assert.deepEqual(apply('{"max_tokens":1,}'), {
    type: "invalid_request",
    message: "The request body is not valid JSON",
  });
  assert.deepEqual(apply("[1]"), {
    type: "invalid_request",
    message: "The request body must be a JSON object",
  });
});

Deno.test("rules that check every field see each top-level key as JSON.parse makes it", () => {
  let seen: Record<string, unknown> | undefined;
  const rules: BodyRules = {
    fields: "all",
    text: false,
    plan: () => ({ generates: false, cap: [], other: "refuse" }),
    apply(body) {
      seen = body;
      return { changed: new Set() };
    },
    checkModel: () => undefined,
  };
  const text = '{"a":1,"__proto__":{"x":2},"b":[true]}';
  applyBodyRules(encoder.encode(text), rules, "/x", 0);
  assert.deepEqual(Object.keys(seen!), Object.keys(JSON.parse(text)));
  assert.equal(
    Object.getPrototypeOf(seen),
    Object.prototype,
    "__proto__ is a field, not a prototype",
  );
  assert.deepEqual(seen!["__proto__"], { x: 2 });
});
