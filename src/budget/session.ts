/**
 * Budgets for a realtime session, which has no worst case to reserve: its responses come one
 * by one, as the conversation goes (and the upstream starts some by itself). So a session is
 * refused (429) at the upgrade only when a budget it falls under is spent already; each
 * response's usage is then charged as it is reported, in tokens and, at the session model's
 * prices, in dollars, to every budget the session falls under (the same ones the budget stage
 * reserves for a request); and the session is closed once one is spent. It may pass the
 * budget by the response in flight when it was spent (and, with several sessions at once, by
 * one response each).
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import type { Exchange } from "../exchange.ts";
import { type PlanVariables, storeDown } from "../limits/limits.ts";
import type { Usage } from "../usage/meter.ts";
import { windowOf } from "../store/store.ts";
import { formatUsd } from "../usd.ts";
import { budgetRefusal, type BudgetSettings, budgetsOf, type Kind } from "./budget.ts";

/** The budgets of one session. */
export interface SessionBudget {
  /** The refusal when a budget the session falls under is spent already (429), if one is. */
  open(): Promise<Response | undefined>;
  /** Charges one response's usage of `model`: the kind of budget it spent, if it spent one. */
  charge(usage: Usage, model: string | undefined): Promise<Kind | undefined>;
  /** Whether `model` can be charged (it has a price where dollars are counted). */
  priced(model: string): boolean;
}

/**
 * The budgets of the session `x` opens, or undefined when it falls under none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { MemoryStore } from "../store/memory.ts";
 * import { sessionBudget } from "./session.ts";
 *
 * const request = new Request("http://gateway/openai/v1/realtime?model=gpt-realtime");
 * const exchange = new Exchange(request, undefined, "req-1", "", "/openai/v1/realtime", () => {});
 * const x = Object.assign(exchange, {
 *   client: { id: "alice", authenticated: true },
 *   plan: { tokens: { limit: 1_000, windowMs: 86_400_000 } },
 * });
 * const budget = sessionBudget({ route: "openai", store: new MemoryStore(), outputMax: 500 }, x)!;
 * assert.equal(await budget.open(), undefined); // nothing spent yet
 * const usage = { input: 700, output: 400, total: 1_100 };
 * assert.equal(await budget.charge(usage, "gpt-realtime"), "tokens"); // spent by this response
 * assert.equal((await budget.open())?.status, 429); // the next session is refused
 * ```
 */
export function sessionBudget(
  settings: BudgetSettings,
  x: Exchange & ClientVariables & PlanVariables,
): SessionBudget | undefined {
  const { route, store, ceiling, pricing, watch } = settings;
  const wanted = budgetsOf(route, x.client.id, x.plan, ceiling, x.client.grant);
  if (wanted.length === 0) return undefined;
  const spends = wanted.some((budget) => budget.kind === "spend");
  return {
    async open() {
      try {
        for (const budget of wanted) {
          const { limit, windowMs } = budget.rate;
          const { count, resetMs } = await store.read(budget.key, windowMs);
          if (count < limit) continue;
          const message = budget.kind === "tokens"
            ? `${budget.whose} of ${limit} per window is spent`
            : `${budget.whose} of ${formatUsd(limit)} per window is spent`;
          return budgetRefusal(x, budget, message, resetMs);
        }
      } catch (error) {
        return storeDown(x, error);
      }
      return undefined;
    },
    async charge(usage, model) {
      const price = spends && model !== undefined ? pricing?.lookup(model) : undefined;
      const cost = price ? price.cost(usage) : 0;
      if (spends) x.cost = (x.cost ?? 0) + cost;
      let spent: Kind | undefined;
      for (const budget of wanted) {
        const amount = budget.kind === "tokens" ? usage.total : cost;
        if (amount <= 0) continue;
        const { limit, windowMs } = budget.rate;
        const { count } = await store.add(budget.key, amount, windowMs);
        if (count >= limit) spent ??= budget.kind;
        void watch?.note({
          route,
          client: budget.client,
          limit: budget.kind,
          key: budget.key,
          used: count,
          budget: limit,
          window: windowOf(windowMs).start,
          windowMs,
        }).catch(() => {});
      }
      return spent;
    },
    priced: (model) => !spends || pricing?.lookup(model) !== undefined,
  };
}
