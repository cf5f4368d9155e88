/**
 * A value that must never be printed: API keys, tokens, secrets. It prints as `[redacted]`
 * through every path that formats values (template strings, JSON, `console.log`, `Deno.inspect`);
 * only {@linkcode Secret.reveal} gives the value, at the point it is sent upstream.
 *
 * @module
 */

const REDACTED = "[redacted]";

/**
 * Holds a secret string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Secret } from "./secret.ts";
 *
 * const key = new Secret("sk-live-123");
 * assert.equal(`${key}`, "[redacted]");
 * assert.equal(JSON.stringify({ key }), '{"key":"[redacted]"}');
 * assert.equal(key.reveal(), "sk-live-123");
 * ```
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself; call it only where the value leaves for the upstream. */
  reveal(): string {
    return this.#value;
  }

  /** Always `[redacted]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }

  /** Always `[redacted]` (Node's inspect, for adapters running under Node). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

/** One key of a route, with a name that says where it came from (never the key). */
export interface KeyEntry {
  /** Where the key came from: `env:OPENAI_API_KEY`, `file:/run/secrets/x`. */
  origin: string;
  /** The key. */
  secret: Secret;
}
