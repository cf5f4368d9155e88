// keyward visitor worker: solves an argon2id proof-of-work challenge. A classic worker
// script, started by visitor.js from a Blob URL (a worker must be same-origin with the page,
// and visitor.js is usually imported from the gateway's origin). The WebAssembly is libargon2
// with SIMD, as the gateway verifies with; the gateway writes it in as base64 where
// __ARGON2_WASM__ stands.
//
// In:  { salt, m, t, threshold, start, step }: try nonces start, start + step, ... as the
//      password (ASCII decimal), salt = the challenge text; solved when the first 48 bits of
//      the 32-byte argon2id output, big-endian, are below threshold.
// Out: { nonce, attempts } when solved, { progress } every 64 attempts, { error } on failure.
"use strict";

const ARGON2_WASM = "__ARGON2_WASM__";
const ARGON2ID = 2;
const VERSION = 0x13;

let argon2;

/** One WebAssembly instance, reused for every attempt, with its buffers allocated once. */
function instance() {
  if (!argon2) {
    const binary = atob(ARGON2_WASM);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    // Compiling synchronously is allowed in a worker.
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    exports._initialize();
    argon2 = {
      exports,
      password: exports.malloc(16),
      salt: exports.malloc(1024),
      out: exports.malloc(32),
    };
  }
  return argon2;
}

self.onmessage = (event) => {
  const { salt, m, t, threshold, start, step } = event.data;
  try {
    const { exports, password, out, salt: saltAt } = instance();
    const saltBytes = new TextEncoder().encode(salt);
    if (saltBytes.length > 1024) throw new Error("The challenge is too long");
    new Uint8Array(exports.memory.buffer).set(saltBytes, saltAt);
    let attempts = 0;
    for (let nonce = start;; nonce += step) {
      const digits = String(nonce);
      let heap = new Uint8Array(exports.memory.buffer);
      for (let i = 0; i < digits.length; i++) heap[password + i] = digits.charCodeAt(i);
      const failed = exports.argon2_hash(
        t,
        m,
        1,
        password,
        digits.length,
        saltAt,
        saltBytes.length,
        out,
        32,
        0,
        0,
        ARGON2ID,
        VERSION,
      );
      if (failed) throw new Error(`argon2id failed (${failed})`);
      heap = new Uint8Array(exports.memory.buffer); // the first hash grows the memory
      const lead = heap[out] * 2 ** 40 + heap[out + 1] * 2 ** 32 + heap[out + 2] * 2 ** 24 +
        heap[out + 3] * 2 ** 16 + heap[out + 4] * 2 ** 8 + heap[out + 5];
      attempts++;
      if (lead < threshold) {
        self.postMessage({ nonce: digits, attempts });
        return;
      }
      if (attempts % 64 === 0) self.postMessage({ progress: 64 });
    }
  } catch (error) {
    self.postMessage({ error: String(error?.message ?? error) });
  }
};
