/**
 * Bench routes for what budgets and client tokens cost: the same `/openai` route to the mock,
 * with usage metered and `max_tokens` clamped (the work a budget route does anyway), then with a
 * token budget reserved and settled in the store on top, and a route whose clients carry a
 * minted token. The token budget runs on the memory store, one Redis and a 3-node Redis Cluster;
 * so does a dollar budget (the same reservation, priced by model). Compare "clamp only" with
 * "token budget" for the reservation's cost (the request's bound, the tokenizer included), "token
 * budget" with "spend budget" for the prices', and
 * "keyward" (plain) with "token auth" for the verification's.
 *
 * @module
 */
import { mintToken } from "../../mod.ts";

/** The secret the token-auth route verifies with (bench only). */
export const BENCH_TOKEN_SECRET = "bench-secret-of-at-least-32-characters";

/** What a budget bench process serves. */
export type BudgetKind = "clamp" | "budget" | "spend" | "token";

/** routes.yaml for one budget bench process; `store` is the store section (memory if unset). */
export function budgetConfig(mockPort: number, kind: BudgetKind, store?: string): string {
  const lines = store ? [`store: ${store}`, "routes:"] : ["routes:"];
  lines.push(
    "  - name: openai",
    "    path: /openai",
    `    upstream: http://127.0.0.1:${mockPort}`,
    "    key: { env: BENCH_KEY }",
    '    allow: ["POST /v1/chat/completions", "POST /v1/stream"]',
  );
  if (kind === "token") {
    lines.push(`    auth: { jwt: { secret: "${BENCH_TOKEN_SECRET}" } }`);
    return lines.join("\n") + "\n";
  }
  lines.push("    usage: openai", "    body: { max_tokens: 1024 }");
  // Far more than a bench spends: every request reserves and settles, none is refused.
  if (kind === "budget") lines.push("    limits: { tokens: 1000000000000/day }");
  if (kind === "spend") lines.push("    limits: { spend: $1000000/day }");
  return lines.join("\n") + "\n";
}

/** The `store:` section of a Redis Cluster at `urls` (from tests/helpers/redis_cluster.ts). */
export function clusterStore(urls: string[]): string {
  return `{ kind: redis, cluster: [${urls.map((url) => `"${url}"`).join(", ")}] }`;
}

/** The Authorization header of the token-auth route: a token minted as an app would. */
export async function benchTokenHeaders(): Promise<Record<string, string>> {
  const token = await mintToken({
    secret: BENCH_TOKEN_SECRET,
    subject: "bench-user",
    expiresIn: "2h",
    routes: ["openai"],
    models: ["gpt-4o-mini"],
  });
  // The name wrk itself uses, so this one replaces its default rather than adding a second.
  return { Authorization: `Bearer ${token}` };
}
