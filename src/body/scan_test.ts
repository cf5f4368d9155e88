import assert from "node:assert/strict";
import { messageText } from "./message_text.ts";
import { JsonScanError, MAX_DEPTH, scanJson } from "./scan.ts";
import { pick, prng, topLevel, WANTED, write } from "../../tests/helpers/json_bodies.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the rules would see through JSON.parse, the reference. */
function reference(bytes: Uint8Array) {
  return JSON.parse(decoder.decode(bytes));
}

function kind(error: unknown): string {
  if (error instanceof JsonScanError) return error.kind;
  throw error;
}

Deno.test("scanJson agrees with JSON.parse on generated bodies: fields, text and validity", () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = prng(seed);
    const body = topLevel(r);
    const text = (r() < 0.1 ? "\ufeff" : "") + write(r, body, false);
    const bytes = encoder.encode(text);
    const scan = scanJson(bytes, WANTED, true);
    const parsed = reference(bytes);
    const context = `seed ${seed}: ${text.slice(0, 300)}`;
    for (const field of WANTED) {
      const span = scan.fields.get(field);
      if (!Object.hasOwn(parsed, field)) {
        assert.equal(span, undefined, context);
        continue;
      }
      assert.ok(span, context);
      assert.deepEqual(reference(bytes.subarray(span.start, span.end)), parsed[field], context);
    }
    assert.deepEqual(scan.text, messageText(parsed), context);
    const all = scanJson(bytes, "all", false);
    assert.deepEqual([...all.fields.keys()].sort(), Object.keys(parsed).sort(), context);
    for (const [field, span] of all.fields) {
      assert.deepEqual(reference(bytes.subarray(span.start, span.end)), parsed[field], context);
    }
    assert.equal(scan.empty, Object.keys(parsed).length === 0, context);
    assert.equal(bytes[scan.close], 0x7d, context);
  }
});

Deno.test("scanJson refuses a key that repeats in any object, however it is spelled", () => {
  let refused = 0;
  for (let seed = 1; seed <= 2000; seed++) {
    const r = prng(seed);
    const text = write(r, topLevel(r), true);
    const bytes = encoder.encode(text);
    // JSON.parse accepts every one of these (the last key wins).
    reference(bytes);
    let result = "ok";
    try {
      scanJson(bytes, WANTED, false);
    } catch (error) {
      result = kind(error);
    }
    if (result !== "ok") {
      assert.equal(result, "duplicate", `seed ${seed}: ${text.slice(0, 300)}`);
      refused++;
    }
  }
  assert.ok(refused > 200, `only ${refused} bodies had a repeated key`);
  const twice = encoder.encode('{"model":"gpt-4o-mini","messages":[],"mod\\u0065l":"gpt-4o"}');
  assert.throws(() => scanJson(twice, WANTED, false), /repeats the key "model"/);
  const nested = encoder.encode('{"messages":[{"content":"a","content":"b"}]}');
  assert.throws(() => scanJson(nested, WANTED, false), (e) => kind(e) === "duplicate");
});

Deno.test("scanJson refuses exactly what JSON.parse refuses, on damaged bodies", () => {
  const bytesOf = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x30, 0x2d, 0x2e, 0x65];
  for (let seed = 1; seed <= 4000; seed++) {
    const r = prng(seed);
    const bytes = [...encoder.encode(write(r, topLevel(r), false))];
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (bytes.length + 1));
      const byte = r() < 0.1 ? Math.floor(r() * 256) : pick(r, bytesOf);
      const op = r();
      if (op < 0.33) bytes.splice(at, 1);
      else if (op < 0.66) bytes.splice(at, 0, byte);
      else bytes[at] = byte;
    }
    const damaged = new Uint8Array(bytes);
    let expected: string;
    try {
      const value = reference(damaged);
      expected = value !== null && typeof value === "object" && !Array.isArray(value)
        ? "ok"
        : "not_object";
    } catch {
      expected = "invalid";
    }
    let actual = "ok";
    try {
      scanJson(damaged, WANTED, true);
    } catch (error) {
      actual = kind(error);
    }
    // A damaged body may have come to repeat a key: JSON.parse takes it, the scanner does not.
    if (actual === "duplicate" && expected === "ok") actual = "ok";
    assert.equal(actual, expected, `seed ${seed}: ${decoder.decode(damaged).slice(0, 300)}`);
  }
});

Deno.test("scanJson: edge cases of the grammar", () => {
  const valid = [
    "{}",
    " {\n} ",
    '{"a":[]}',
    '{"a":[[[[[]]]]]}',
    '{"a":-0}',
    '{"a":0.5e-10}',
    '{"a":1E+2}',
    '{"a":"\\ud83d\\ude00"}',
    '\ufeff{"a":1}',
    '{"a":"\x7f"}',
  ];
  for (const text of valid) {
    const bytes = encoder.encode(text);
    assert.deepEqual(reference(bytes), reference(bytes));
    scanJson(bytes, WANTED, true);
  }
  const invalid = [
    "",
    "{",
    "{}}",
    "{} x",
    '{"a"}',
    '{"a":}',
    '{"a":01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":1e}',
    '{"a":+1}',
    '{"a":tru}',
    '{"a":nul}',
    '{"a":"\\x"}',
    '{"a":"\\u12"}',
    '{"a":"\t"}',
    '{"a":1,}',
    '{"a":[1,]}',
    "{'a':1}",
    '{"a":1 "b":2}',
    "\ufeff\ufeff{}",
  ];
  for (const text of invalid) {
    const bytes = encoder.encode(text);
    assert.throws(() => reference(bytes), text);
    assert.throws(() => scanJson(bytes, WANTED, false), (e) => kind(e) === "invalid", text);
  }
  for (const text of ["[1,2]", '"x"', "1", "null", "true"]) {
    assert.throws(
      () => scanJson(encoder.encode(text), WANTED, false),
      (e) => kind(e) === "not_object",
    );
  }
  // Invalid UTF-8 inside a string decodes to U+FFFD for JSON.parse; the scanner agrees.
  const broken = new Uint8Array([...encoder.encode('{"content":"a'), 0xc3, 0x22, 0x7d]);
  assert.deepEqual(scanJson(broken, WANTED, true).text, [reference(broken).content]);
  // Nesting is bounded: a body of brackets costs no more than its depth bound.
  const nested = (depth: number) =>
    encoder.encode(`{"a":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`);
  assert.equal(scanJson(nested(MAX_DEPTH), WANTED, false).fields.size, 0);
  for (const depth of [MAX_DEPTH + 1, 4_000_000]) {
    assert.throws(
      () => scanJson(nested(depth), WANTED, false),
      (e) => kind(e) === "too_deep" && /deeper than 1000 levels/.test((e as Error).message),
    );
  }
});
