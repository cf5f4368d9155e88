/**
 * Key names in Redis, the same on one server and on a Redis Cluster, so a deployment can move
 * between them without a second layout. A store key is named `kind:scope`
 * (`tokens:openai:alice`); in Redis it becomes `keyward:kind:{scope}` plus what the operation
 * adds (`@<window start>`, `:slots`, `:claim`, `:members@<window start>`). The braces are a
 * cluster hash tag: every key of one scope (one route and client, `{openai:alice}`, or one
 * route, `{openai}`) hashes to one slot, so a script over several of them stays one atomic
 * operation on one node. Braces and `%` inside a kind or scope (a client id may hold any
 * character) are percent-escaped, so no client can choose another's tag.
 *
 * @module
 */

const SPECIAL = /[%{}]/;
const ESCAPED = /[%{}]/g;
const ESCAPES: Record<string, string> = { "%": "%25", "{": "%7B", "}": "%7D" };

function escape(text: string): string {
  return SPECIAL.test(text) ? text.replace(ESCAPED, (c) => ESCAPES[c]) : text;
}

/**
 * The Redis name of store key `key` (`kind:scope`, or a bare scope), with `suffix` after its
 * hash tag. Distinct keys and suffixes give distinct names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashTag, redisKey } from "./redis_keys.ts";
 *
 * assert.equal(redisKey("tokens:openai:alice", "@1700000000000"),
 *   "keyward:tokens:{openai:alice}@1700000000000");
 * assert.equal(redisKey("concurrent:openai:alice", ":slots"),
 *   "keyward:concurrent:{openai:alice}:slots");
 * // one route and client, one slot
 * assert.equal(hashTag(redisKey("requests:openai:alice")), "openai:alice");
 * // a client id cannot open a tag of its own
 * assert.equal(redisKey("tokens:openai:a}b{c"), "keyward:tokens:{openai:a%7Db%7Bc}");
 * ```
 */
export function redisKey(key: string, suffix = ""): string {
  const colon = key.indexOf(":");
  if (colon < 0) return `keyward:{${escape(key)}}${suffix}`;
  return `keyward:${escape(key.slice(0, colon))}:{${escape(key.slice(colon + 1))}}${suffix}`;
}

/**
 * The part of a Redis key that Redis Cluster hashes to pick its slot: the text between the
 * first `{` and the next `}` when that is not empty, else the whole key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashTag } from "./redis_keys.ts";
 *
 * assert.equal(hashTag("keyward:stats:{openai}:60000@0"), "openai");
 * assert.equal(hashTag("plain"), "plain");
 * assert.equal(hashTag("a{}b"), "a{}b");
 * ```
 */
export function hashTag(name: string): string {
  const open = name.indexOf("{");
  if (open < 0) return name;
  const close = name.indexOf("}", open + 1);
  if (close <= open + 1) return name;
  return name.slice(open + 1, close);
}
