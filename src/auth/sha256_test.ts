import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256 } from "./sha256.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("sha256 gives the FIPS 180-4 test vectors", () => {
  assert.equal(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(
    hex(sha256("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    hex(sha256("a".repeat(1_000_000))),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("sha256 agrees with node:crypto on every length across block edges, and on UTF-8", () => {
  for (let length = 0; length < 300; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assert.equal(hex(sha256(bytes)), createHash("sha256").update(bytes).digest("hex"), `${length}`);
  }
  const text = "clé 🔑 ключ";
  assert.equal(hex(sha256(text)), createHash("sha256").update(text).digest("hex"));
});
