/**
 * A route's body rules over the bytes of one body: scan them for the fields the rules name,
 * parse just those values, apply the rules, and splice back what they changed. The work is
 * one pass over the bytes plus what the rules read; the prompt is never decoded unless deny
 * patterns read it, and never re-encoded.
 *
 * @module
 */
import type { BodyPlan, BodyRefusal, BodyRules } from "./rules.ts";
import { JsonScanError, scanJson, textOf } from "./scan.ts";
import { spliceFields } from "./splice.ts";

/**
 * Applies `rules` to the JSON body `bytes` bound for `upstreamPath`: a refusal (not JSON, not
 * an object, a repeated key, or a rule's own), or the bytes to send (`bytes` itself when the
 * rules changed nothing). `bytes` may be edited in place; `room` says how many bytes before
 * it in its buffer are free to use (see `readHeld`), so an added field needs no copy. `plan`
 * is the endpoint's (see `BodyRules.plan`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyBodyRules } from "./apply.ts";
 * import { compileBodyRules } from "./rules.ts";
 *
 * const rules = compileBodyRules({ max_tokens: 100 }, "openai", false)!;
 * const bytes = new TextEncoder().encode('{"max_tokens":5000}');
 * const out = applyBodyRules(bytes, rules, "/v1/chat/completions", 0);
 * assert.ok("body" in out);
 * // written over the old value, padded with a space: the body keeps its length
 * assert.equal(new TextDecoder().decode(out.body), '{"max_tokens":100 }');
 * ```
 */
export function applyBodyRules(
  bytes: Uint8Array<ArrayBuffer>,
  rules: BodyRules,
  upstreamPath: string,
  room: number,
  plan?: BodyPlan,
): BodyRefusal | { body: Uint8Array<ArrayBuffer> } {
  let scan;
  try {
    scan = scanJson(bytes, rules.fields, rules.text);
  } catch (error) {
    if (!(error instanceof JsonScanError)) throw error;
    return { type: "invalid_request", message: error.message };
  }
  const fields: Record<string, unknown> = {};
  for (const [name, span] of scan.fields) {
    const value = JSON.parse(textOf(bytes, span.start, span.end));
    // An own property, as JSON.parse makes it: `__proto__` must not set the prototype.
    if (name === "__proto__") {
      Object.defineProperty(fields, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else fields[name] = value;
  }
  const verdict = rules.apply(fields, upstreamPath, scan.text ?? [], plan);
  if ("type" in verdict) return verdict;
  if (verdict.changed.size === 0) return { body: bytes };
  return { body: spliceFields(bytes, scan, fields, verdict.changed, room) };
}
