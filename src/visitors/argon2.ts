/**
 * argon2id on the server: libargon2 compiled to WebAssembly with SIMD (the same module the
 * browser worker runs, see `assets.ts`), one instance per process reused for every hash, its
 * buffers allocated once. One hash at the puzzle's 1 MiB costs well under a millisecond.
 *
 * Runtimes that refuse to compile WebAssembly from bytes (Cloudflare Workers, Vercel Edge)
 * take a module compiled ahead of time: pass it as the gateway's `argon2Wasm` option.
 *
 * @module
 */

/** What libargon2's WebAssembly exports (the functions used here). */
interface Argon2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  argon2_hash(
    t: number,
    m: number,
    p: number,
    pwd: number,
    pwdlen: number,
    salt: number,
    saltlen: number,
    hash: number,
    hashlen: number,
    encoded: number,
    encodedlen: number,
    type: number,
    version: number,
  ): number;
}

/** Argon2id, version 0x13. */
const ARGON2ID = 2;
const VERSION = 0x13;
/** The longest salt (a challenge) and password (a nonce) hashed. */
const MAX_SALT = 1024;
const MAX_PASSWORD = 64;

/** Hashes with argon2id: 32 bytes out. */
export interface Argon2id {
  /** argon2id(`password`, `salt`) with `m` KiB of memory, `t` passes, one lane; 32 bytes. */
  hash(password: string, salt: Uint8Array, m: number, t: number): Uint8Array;
}

const encoder = new TextEncoder();

class WasmArgon2id implements Argon2id {
  readonly #exports: Argon2Exports;
  readonly #password: number;
  readonly #salt: number;
  readonly #out: number;

  constructor(instance: WebAssembly.Instance) {
    this.#exports = instance.exports as unknown as Argon2Exports;
    this.#exports._initialize();
    this.#password = this.#exports.malloc(MAX_PASSWORD);
    this.#salt = this.#exports.malloc(MAX_SALT);
    this.#out = this.#exports.malloc(32);
  }

  hash(password: string, salt: Uint8Array, m: number, t: number): Uint8Array {
    if (salt.length > MAX_SALT) throw new RangeError(`A salt of ${salt.length} bytes is too long`);
    const exports = this.#exports;
    const heap = new Uint8Array(exports.memory.buffer);
    const { written } = encoder.encodeInto(
      password,
      heap.subarray(this.#password, this.#password + MAX_PASSWORD),
    );
    heap.set(salt, this.#salt);
    const failed = exports.argon2_hash(
      t,
      m,
      1,
      this.#password,
      written,
      this.#salt,
      salt.length,
      this.#out,
      32,
      0,
      0,
      ARGON2ID,
      VERSION,
    );
    if (failed) throw new Error(`argon2id failed with code ${failed}`);
    // The first hash grows the memory: read through a fresh view.
    return new Uint8Array(exports.memory.buffer).slice(this.#out, this.#out + 32);
  }
}

let shared: Promise<Argon2id> | undefined;

/**
 * The process's argon2id, made on first use from `module` (a precompiled module, for
 * runtimes that compile no WebAssembly from bytes) or else from the bytes in `assets.ts`
 * (loaded only now), and warmed with one hash: the first hash of a fresh instance grows its
 * memory and is many times slower than the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadArgon2id } from "./argon2.ts";
 *
 * const argon2 = await loadArgon2id();
 * const salt = new TextEncoder().encode("a challenge of sixteen+ bytes");
 * const hash = argon2.hash("42", salt, 1024, 1);
 * assert.equal(hash.length, 32);
 * assert.deepEqual(argon2.hash("42", salt, 1024, 1), hash); // deterministic
 * ```
 */
export function loadArgon2id(module?: WebAssembly.Module): Promise<Argon2id> {
  if (shared) return shared;
  const loading = (async () => {
    const compiled = module ?? await compileBundled();
    const argon2 = new WasmArgon2id(await WebAssembly.instantiate(compiled, {}));
    argon2.hash("0", encoder.encode("keyward warm-up salt"), 1024, 1);
    return argon2;
  })();
  shared = loading;
  loading.catch(() => {
    if (shared === loading) shared = undefined;
  });
  return loading;
}

async function compileBundled(): Promise<WebAssembly.Module> {
  const { ARGON2_WASM_BASE64 } = await import("./assets.ts");
  const binary = atob(ARGON2_WASM_BASE64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return await WebAssembly.compile(bytes);
}
