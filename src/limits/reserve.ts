/**
 * The worst case of a request, for token budgets that hold: its input estimate (the body's
 * bytes: every BPE token stands for at least one byte, so the bytes bound the prompt's
 * tokens) plus the most output it may ask for (the output cap the body rules left in the
 * body, else the route's clamp).
 *
 * @module
 */
import type { BodyPlan, BodyRules } from "../body/rules.ts";
import type { RouteLimits } from "./plan.ts";
import { JsonScanError, scanJson, textOf } from "../body/scan.ts";

/**
 * The output clamp a route with a token budget gets when its `body.max_tokens` is unset (or a
 * quarter of its smallest budget, when that is less): a request that names no cap would
 * otherwise have to reserve the upstream's own maximum, and a budget should hold a few.
 */
export const DEFAULT_BUDGET_MAX_TOKENS = 4096;

/**
 * The output clamp of a route: its own `body.max_tokens`, else (with a token budget) the
 * default clamp, at most a quarter of the smallest budget of any of its clients.
 *
 * @example
 * ```ts
 * budgetClamp(undefined, compileLimits({ tokens: { limit: 1000, windowMs: 86_400_000 } }, []));
 * // 250
 * ```
 */
export function budgetClamp(own: number | undefined, limits: RouteLimits): number {
  if (own !== undefined) return own;
  let smallest = Infinity;
  for (const plan of [limits.base, ...limits.byClient.values()]) {
    if (plan.tokens) smallest = Math.min(smallest, plan.tokens.limit);
  }
  return Math.max(1, Math.min(DEFAULT_BUDGET_MAX_TOKENS, Math.floor(smallest / 4)));
}

const OUTPUT_FIELDS = ["max_tokens", "max_completion_tokens", "max_output_tokens"];
const GENERATION_FIELDS = ["generationConfig", "generation_config"];
/** What a body is scanned for: the output caps and the model. */
const WANTED = new Set([...OUTPUT_FIELDS, ...GENERATION_FIELDS, "model", "stream"]);

/** What the reservation and a token's `models` claim read from a JSON body. */
export interface BodyFacts {
  /** The largest output cap the body sets, if it sets one. */
  output?: number;
  /** The body's `model`, if it names one. */
  model?: string;
  /** True when the body asks for a stream (`"stream": true`). */
  stream?: boolean;
}

const capOf = (value: unknown): number | undefined =>
  typeof value === "number" && value >= 0 ? value : undefined;

/**
 * Reads the output caps and the model of a JSON body as it will be sent (after the body rules
 * clamped it). A body that is not a JSON object yields nothing.
 *
 * @example
 * ```ts
 * bodyFacts(new TextEncoder().encode('{"model":"m","max_tokens":300}'));
 * // { output: 300, model: "m" }
 * ```
 */
export function bodyFacts(bytes: Uint8Array): BodyFacts {
  let scan;
  try {
    scan = scanJson(bytes, WANTED, false);
  } catch (error) {
    if (error instanceof JsonScanError) return {};
    throw error;
  }
  const facts: BodyFacts = {};
  for (const [name, span] of scan.fields) {
    let value: unknown;
    try {
      value = JSON.parse(textOf(bytes, span.start, span.end));
    } catch {
      continue;
    }
    if (name === "model") {
      if (typeof value === "string") facts.model = value;
      continue;
    }
    if (name === "stream") {
      if (value === true) facts.stream = true;
      continue;
    }
    const caps = GENERATION_FIELDS.includes(name)
      ? value && typeof value === "object"
        ? [
          capOf((value as Record<string, unknown>).maxOutputTokens),
          capOf((value as Record<string, unknown>).max_output_tokens),
        ]
        : []
      : [capOf(value)];
    for (const cap of caps) {
      if (cap !== undefined) facts.output = Math.max(facts.output ?? 0, cap);
    }
  }
  return facts;
}

/**
 * The request body's size for the input estimate: the bytes the rules read, else the declared
 * length, else (a stream of unknown length) `cap`, the most the route takes.
 */
export function inputBytes(request: Request, body: unknown, cap: number): number {
  if (body instanceof Uint8Array) return body.byteLength;
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return 0;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number.isSafeInteger(Number(declared))) return Number(declared);
  return cap;
}

/**
 * Body rules that also read `names` (`model` for routes whose client tokens may narrow the
 * models, `stream` for queued routes that must know a stream request): the body rule then
 * reads every JSON body, so the rules after it can see them.
 */
export function reading(rules: BodyRules | undefined, names: readonly string[]): BodyRules {
  if (!rules) {
    return {
      fields: new Set(names),
      text: false,
      plan: () => READ_ONLY,
      apply: () => ({ changed: NOTHING }),
      checkModel: () => undefined,
    };
  }
  const plan = (method: string, path: string) => rules.plan(method, path) ?? READ_ONLY;
  if (rules.fields === "all") return { ...rules, plan };
  return { ...rules, plan, fields: new Set([...rules.fields, ...names]) };
}

const NOTHING: ReadonlySet<string> = new Set();
/** Read for its fields, changed in nothing; a body that is not JSON goes as sent. */
const READ_ONLY: BodyPlan = { generates: false, cap: [], other: "pass" };
