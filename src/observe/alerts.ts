/**
 * `server.alerts`: a JSON notice POSTed to the owner's webhook when a client's or a route's
 * budget first crosses each of the configured fractions in a window, once across every
 * instance sharing the store (each crossing is claimed in the store before it is sent).
 *
 * ```json
 * {"event":"budget_threshold","route":"openai","client":"alice","limit":"spend",
 *  "fraction":0.8,"used":1.62,"budget":2,"window_reset":"2026-12-06T00:00:00.000Z"}
 * ```
 *
 * `used` and `budget` are dollars for a spend budget and tokens for a token budget; `client`
 * is null for the route's ceiling over all its clients.
 *
 * @module
 */
import type { AlertsConfig } from "../config/types.ts";
import { UNITS_PER_USD } from "../config/units.ts";
import type { BudgetWatch, Standing } from "../budget/standing.ts";
import { logEvent } from "./log.ts";
import type { LimitStore } from "../store/store.ts";

/** How long a notice may take before it is given up. */
const POST_TIMEOUT_MS = 5_000;

/** Sends the notices of one gateway. */
export class Alerts implements BudgetWatch {
  readonly #webhook: string;
  readonly #at: readonly number[];
  readonly #store: LimitStore;
  readonly #fetch: typeof fetch;
  /**
   * Fractions known to be announced (here or by another instance), with when their claim
   * ends: once a budget is past a fraction, its later requests ask the store no more.
   */
  readonly #announced = new Map<string, number>();
  #sweepAt = 1024;

  /** Alerts to `config.webhook`, claimed in `store`. */
  constructor(config: AlertsConfig, store: LimitStore, fetcher: typeof fetch = fetch) {
    this.#webhook = config.webhook;
    this.#at = [...config.at].sort((a, b) => a - b);
    this.#store = store;
    this.#fetch = fetcher;
  }

  /**
   * Notes a budget's standing: each fraction it has reached and no instance has announced
   * yet in this window is announced now. Never throws; never waits for the webhook.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Alerts } from "./alerts.ts";
   * import { MemoryStore } from "../store/memory.ts";
   *
   * const sent: unknown[] = [];
   * const fake = ((_url: string, init: RequestInit) => {
   *   sent.push(JSON.parse(String(init.body)));
   *   return Promise.resolve(new Response(null, { status: 204 }));
   * }) as typeof fetch;
   * const alerts = new Alerts({ webhook: "http://127.0.0.1:9/hook", at: [0.8, 1] }, new MemoryStore(), fake);
   * const standing = { route: "openai", client: "alice", limit: "tokens" as const, key: "tokens:openai:alice",
   *   used: 850, budget: 1000, window: 0, windowMs: 86_400_000 };
   * await alerts.note(standing);
   * await alerts.note(standing); // announced once
   * assert.equal(sent.length, 1);
   * ```
   */
  async note(standing: Standing): Promise<void> {
    const { used, budget, key, window, windowMs } = standing;
    for (const fraction of this.#at) {
      if (used < fraction * budget) break;
      const claim = `alert:${key}@${window}:${fraction}`;
      const now = Date.now();
      if ((this.#announced.get(claim) ?? 0) > now) continue;
      const ttl = Math.max(window + windowMs - now + 60_000, 1000);
      try {
        const mine = await this.#store.claim(claim, ttl);
        this.#remember(claim, now + ttl, now);
        if (!mine) continue;
      } catch {
        continue; // the store is down: the next change will try again
      }
      void this.#post(standing, fraction);
    }
  }

  #remember(claim: string, until: number, now: number): void {
    if (this.#announced.size >= this.#sweepAt) {
      for (const [id, end] of this.#announced) if (end <= now) this.#announced.delete(id);
      this.#sweepAt = Math.max(1024, this.#announced.size * 2);
    }
    this.#announced.set(claim, until);
  }

  async #post(standing: Standing, fraction: number): Promise<void> {
    const spend = standing.limit === "spend";
    const notice = {
      event: "budget_threshold",
      route: standing.route,
      client: standing.client,
      limit: standing.limit,
      fraction,
      used: spend ? standing.used / UNITS_PER_USD : standing.used,
      budget: spend ? standing.budget / UNITS_PER_USD : standing.budget,
      window_reset: new Date(standing.window + standing.windowMs).toISOString(),
    };
    try {
      const response = await this.#fetch(this.#webhook, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(notice),
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) logEvent("alert_failed", { status: response.status, route: notice.route });
    } catch (error) {
      logEvent("alert_failed", { error: (error as Error).name, route: notice.route });
    }
  }
}
