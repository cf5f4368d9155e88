/**
 * What a JSON body says that stages after the body rules need: its model (a client token's
 * `models` claim, the budget's price), its largest output cap (a budget's worst case) and
 * whether it asks for a stream (a queue answers a waiting stream with heartbeats). The
 * bytes are scanned for those few fields, never parsed whole.
 *
 * @module
 */
import type { BodyPlan, BodyRules } from "./rules.ts";
import { JsonScanError, scanJson, textOf } from "./scan.ts";

const OUTPUT_FIELDS = ["max_tokens", "max_completion_tokens", "max_output_tokens"];
const GENERATION_FIELDS = ["generationConfig", "generation_config"];
/** What a body is scanned for: the output caps, the model and the stream flag. */
const WANTED = new Set([...OUTPUT_FIELDS, ...GENERATION_FIELDS, "model", "stream"]);

/** What the stages after the body rules read from a JSON body. */
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
 * import { bodyFacts } from "./facts.ts";
 *
 * const facts = bodyFacts(new TextEncoder().encode('{"model":"m","max_tokens":300}'));
 * if (facts.model !== "m" || facts.output !== 300) throw new Error("misread");
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
 * Body rules that also read `names` (`model` for a client token whose `models` claim must be
 * checked, `stream` for queued routes that must know a stream request): every JSON body is
 * then read, so the stages after can see what it says.
 *
 * @example
 * ```ts
 * import { reading } from "./facts.ts";
 *
 * const rules = reading(undefined, ["stream"]);
 * if (!rules.plan("POST", "/v1/chat/completions")) throw new Error("not read");
 * ```
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
