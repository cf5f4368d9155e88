/**
 * What the budget stage tells whoever watches budgets (the owner's alerts, see
 * `observe/alerts.ts`): a budget's standing after each change.
 *
 * @module
 */

/** One budget's standing after a change. */
export interface Standing {
  /** The route. */
  route: string;
  /** The client, or null for the route's ceiling. */
  client: string | null;
  /** Which budget: `tokens` or `spend`. */
  limit: "tokens" | "spend";
  /** The counter's key in the store. */
  key: string;
  /** Used in the window (spend in units of 1e-8 USD). */
  used: number;
  /** The budget per window (same unit). */
  budget: number;
  /** The window's start (epoch ms) and length. */
  window: number;
  windowMs: number;
}

/** Hears each change of a budget (never awaited by the request it came from). */
export interface BudgetWatch {
  /** Notes a budget's standing after a reservation or a settlement. */
  note(standing: Standing): Promise<void>;
}
