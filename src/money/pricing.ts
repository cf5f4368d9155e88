/**
 * Prices as the budget stage uses them (see `budget/worst_case.ts`): the built-in table with
 * the config's `prices:` over it, loaded once per gateway, and for each model the most a worst
 * case can cost and what reported usage costs, in units of 1e-8 USD, rounded up.
 *
 * @module
 */
import type { ModelPricing, Pricing, RequestBound } from "../budget/worst_case.ts";
import type { PriceConfig } from "../config/types.ts";
import type { Usage } from "../usage/meter.ts";
import { costOf, worstCost } from "./cost.ts";
import { loadPrices, type ModelPrice } from "./prices.ts";

/**
 * Loads the prices a gateway charges at: the built-in table, with `overrides` (routes.yaml's
 * `prices:`) over it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPricing } from "./pricing.ts";
 *
 * const pricing = await loadPricing({ "my-model": { input: "1", output: "2" } });
 * const price = pricing.lookup("my-model")!;
 * // 1,000 input tokens at $1/M and 500 output at $2/M: $0.002, in units of 1e-8 USD
 * assert.equal(price.cost({ input: 1000, output: 500, total: 1500 }), 200_000);
 * assert.equal(pricing.lookup("no-such-model"), undefined);
 * ```
 */
export async function loadPricing(overrides?: Record<string, PriceConfig>): Promise<Pricing> {
  const book = await loadPrices(overrides);
  const made = new WeakMap<ModelPrice, ModelPricing>();
  return {
    lookup(model: string): ModelPricing | undefined {
      const price = book.lookup(model);
      if (!price) return undefined;
      let pricing = made.get(price);
      if (!pricing) {
        pricing = {
          worst: (bound: RequestBound) => worstCost(bound.input, bound.output, price),
          cost: (usage: Usage) => costOf(usage, price),
          contextWindow: price.contextWindow,
        };
        made.set(price, pricing);
      }
      return pricing;
    },
  };
}
