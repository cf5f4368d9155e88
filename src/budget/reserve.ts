/**
 * The worst case of a request, for token budgets that hold: its input estimate (the body's
 * bytes: every BPE token stands for at least one byte, so the bytes bound the prompt's
 * tokens) plus the most output it may ask for (the output cap the body rules left in the
 * body, else the route's clamp).
 *
 * @module
 */
import { DEFAULT_BUDGET_MAX_TOKENS } from "../config/defaults.ts";
import type { RouteLimits } from "../limits/plan.ts";

/**
 * The output clamp of a route: its own `body.max_tokens`, else (with a budget in tokens or
 * dollars) the default clamp, at most a quarter of the smallest token budget of any of its
 * clients or of the route's ceiling.
 *
 * @example
 * ```ts
 * import { budgetClamp } from "./reserve.ts";
 * import { compileLimits } from "../limits/plan.ts";
 *
 * const limits = compileLimits({ tokens: { limit: 1000, windowMs: 86_400_000 } }, []);
 * if (budgetClamp(undefined, limits) !== 250) throw new Error("not a quarter");
 * ```
 */
export function budgetClamp(own: number | undefined, limits: RouteLimits): number {
  if (own !== undefined) return own;
  let smallest = Infinity;
  for (const plan of [limits.base, ...limits.byClient.values(), limits.ceiling ?? {}]) {
    if (plan.tokens) smallest = Math.min(smallest, plan.tokens.limit);
  }
  return Math.max(1, Math.min(DEFAULT_BUDGET_MAX_TOKENS, Math.floor(smallest / 4)));
}
