/**
 * Model-name match rules, kept as data in the price table as its source writes them:
 * `equals`, `starts_with`, `ends_with` and `contains` compare without regard to case,
 * `regex` is a JavaScript regular expression tested on the name as given, `or` and `and`
 * combine rules. The same semantics as `@pydantic/genai-prices`, compiled once to a test.
 *
 * @module
 */

/** A match rule as the price table writes it. */
export type MatchRule =
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string }
  | { or: MatchRule[] }
  | { and: MatchRule[] };

/** A compiled rule: does this model name match? `lower` is the name in lower case. */
export type Matcher = (name: string, lower: string) => boolean;

/**
 * Compiles a rule into a test; throws naming the rule when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileMatch } from "./match.ts";
 *
 * const test = compileMatch({ or: [{ equals: "gpt-4o" }, { starts_with: "gpt-4o-2024-" }] });
 * const matches = (name: string) => test(name, name.toLowerCase());
 * assert.equal(matches("GPT-4o"), true);
 * assert.equal(matches("gpt-4o-2024-08-06"), true);
 * assert.equal(matches("gpt-4o-mini"), false);
 * ```
 */
export function compileMatch(rule: MatchRule): Matcher {
  if (typeof rule === "object" && rule !== null) {
    if ("or" in rule && Array.isArray(rule.or)) {
      const rules = rule.or.map(compileMatch);
      return (name, lower) => rules.some((test) => test(name, lower));
    }
    if ("and" in rule && Array.isArray(rule.and)) {
      const rules = rule.and.map(compileMatch);
      return (name, lower) => rules.every((test) => test(name, lower));
    }
    if ("equals" in rule && typeof rule.equals === "string") {
      const value = rule.equals.toLowerCase();
      return (_, lower) => lower === value;
    }
    if ("starts_with" in rule && typeof rule.starts_with === "string") {
      const value = rule.starts_with.toLowerCase();
      return (_, lower) => lower.startsWith(value);
    }
    if ("ends_with" in rule && typeof rule.ends_with === "string") {
      const value = rule.ends_with.toLowerCase();
      return (_, lower) => lower.endsWith(value);
    }
    if ("contains" in rule && typeof rule.contains === "string") {
      const value = rule.contains.toLowerCase();
      return (_, lower) => lower.includes(value);
    }
    if ("regex" in rule && typeof rule.regex === "string") {
      const pattern = new RegExp(rule.regex);
      return (name) => pattern.test(name);
    }
  }
  throw new Error(`Cannot read match rule ${JSON.stringify(rule)}`);
}
