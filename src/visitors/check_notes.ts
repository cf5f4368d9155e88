/**
 * What `keyward check` says about `server.visitors`: how tokens are earned, at what
 * difficulty, how many a network may earn and how long they live; and a warning when no
 * route takes them.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { rateText } from "../config/units.ts";
import { ATTEMPTS_PER_SECOND } from "./puzzle.ts";

/** Finds the line of a setting. */
type Locate = (path: readonly PropertyKey[]) => { line: number; col: number };

const UNITS: [number, string][] = [[86_400_000, "d"], [3_600_000, "h"], [60_000, "m"], [
  1000,
  "s",
]];
function life(ms: number): string {
  const [factor, unit] = UNITS.find(([factor]) => ms % factor === 0) ?? [1, "ms"];
  return `${ms / factor}${unit}`;
}

/**
 * The lines `check` prints for `server.visitors` (none without it), and its warnings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { visitorNotes } from "./check_notes.ts";
 *
 * const { notes, warnings } = visitorNotes({
 *   server: {
 *     visitors: {
 *       secret: "a-visitor-secret-of-32-bytes-or-more",
 *       proof_of_work: { seconds: 2 },
 *       earn_with: "either",
 *       ttl: 3_600_000,
 *       per_address: { limit: 20, windowMs: 3_600_000 },
 *     },
 *   },
 *   routes: [{ name: "openai", path: "/openai", preset: "openai", auth: "visitor" }],
 * }, "routes.yaml", () => ({ line: 2, col: 3 }));
 * assert.match(notes[1], /difficulty 3000, about 2 s in a browser/);
 * assert.deepEqual(warnings, []);
 * ```
 */
export function visitorNotes(
  config: Config,
  file: string,
  locate: Locate,
): { notes: string[]; warnings: string[] } {
  const visitors = config.server?.visitors;
  if (!visitors) return { notes: [], warnings: [] };
  const ways: string[] = [];
  const pow = visitors.proof_of_work;
  if (pow) {
    const difficulty = Math.max(1, Math.round(pow.seconds * ATTEMPTS_PER_SECOND));
    ways.push(
      `proof of work (argon2id, 1 MiB) at difficulty ${difficulty}, about ${pow.seconds} s ` +
        "in a browser, rising under bursts",
    );
  }
  if (visitors.turnstile) {
    ways.push(`a Turnstile answer (siteverify at ${new URL(visitors.turnstile.verify_url).host})`);
  }
  const how = ways.join(visitors.earn_with === "both" ? " and " : " or ");
  const { limit, windowMs } = visitors.per_address;
  const notes = [
    "",
    `visitors: ${how}; per_address ${rateText({ limit, windowMs })} (per IPv4 /24, IPv6 /64); ` +
    `tokens live ${life(visitors.ttl)}`,
    "visitors: GET /keyward/visitor/challenge, POST /keyward/visitor/token, " +
    "GET /keyward/visitor.js",
  ];
  const warnings: string[] = [];
  const fallback = config.server?.auth ?? "none";
  if (!config.routes.some((route) => (route.auth ?? fallback) === "visitor")) {
    const at = locate(["server", "visitors"]);
    warnings.push(
      `warning: ${file}:${at.line}:${at.col} server.visitors is set but no route has ` +
        "auth: visitor; its tokens open nothing",
    );
  }
  return { notes, warnings };
}
