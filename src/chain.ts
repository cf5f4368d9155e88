/**
 * Runs a route's rules in order, as Hono runs middleware: a rule answers by returning a
 * Response or passes on by awaiting `next()`, and sees the answer of the rules after it in
 * `c.res` once `next()` resolves.
 *
 * @module
 */
import type { Context } from "hono";
import type { GatewayEnv, Rule } from "./context.ts";

/** A composed chain: resolves when the chain has answered, with the answer in `c.res`. */
export type Chain = (c: Context<GatewayEnv>) => Promise<void>;

/**
 * Composes rules into one chain, once per route.
 *
 * @example
 * ```ts
 * const run = composeRules([bind(route), resolveRule(route), forwardHandler(route)]);
 * await run(c); // c.res holds the answer
 * ```
 */
export function composeRules(rules: readonly Rule[]): Chain {
  const dispatch = async (c: Context<GatewayEnv>, i: number): Promise<void> => {
    const rule = rules[i];
    if (!rule) return;
    const answer = await rule(c, () => dispatch(c, i + 1));
    if (answer) c.res = answer;
  };
  return (c) => dispatch(c, 0);
}
