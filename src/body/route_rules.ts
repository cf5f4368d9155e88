/**
 * A route's body rules, compiled once and loaded only for a route that has any: its JSON rules
 * (`body:`), its preset's field policy (inference.sh), the fields the stages after the body
 * stage must see (`stream` for a queue, `model` for a client token's claims), and how the
 * body stage applies them to the bytes it read.
 *
 * @module
 */
import type { BodyRulesConfig } from "../config/types.ts";
import type { FieldPolicy, UsageFormat } from "../config/presets/preset.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import { applyBodyRules } from "./apply.ts";
import type { RulesReader } from "./body.ts";
import { bodyFacts, reading } from "./facts.ts";
import { compileFieldPolicy, withFieldPolicy } from "./fields.ts";
import { checkForm } from "./form.ts";
import { type BodyRules, compileBodyRules, type GenerateTable } from "./rules.ts";
import { SPLICE_ROOM } from "./splice.ts";

/** What a route's body rules are made of. */
export interface RouteRulesSettings {
  /** The route's `body:` section (with the budget's clamp in `max_tokens`). */
  body?: BodyRulesConfig;
  /** How the upstream reports usage. */
  usage?: UsageFormat;
  /** Whether the route counts tokens (OpenAI streams are then asked for their usage). */
  countTokens: boolean;
  /** The preset's generating endpoints. */
  generate?: GenerateTable;
  /** The preset's body field policy, if it has one. */
  policy?: FieldPolicy;
  /** Whether a queue must know a stream request (`"stream": true`). */
  queued: boolean;
  /** Whether a client token's claims may name models (a JWT route). */
  models: boolean;
}

/** A route's compiled body rules. */
export interface RouteRules {
  /** The readers for the body stage (undefined: the route's bodies are never read). */
  rules?: RulesReader;
  /** The reader for a client token whose claims name models. */
  modelRules?: RulesReader;
  /** The stage that checks an app a `GET` path names against `body.apps`. */
  pathStage?: Stage<UpstreamVariables>;
}

/**
 * Compiles a route's body rules.
 *
 * @example
 * ```ts
 * import { compileRouteRules } from "./route_rules.ts";
 *
 * const { rules } = compileRouteRules({
 *   body: { max_tokens: 100 },
 *   usage: "openai",
 *   countTokens: false,
 *   queued: false,
 *   models: false,
 * });
 * if (!rules?.plan("POST", "/v1/chat/completions")) throw new Error("no plan");
 * ```
 */
export function compileRouteRules(settings: RouteRulesSettings): RouteRules {
  const fields = settings.policy ? compileFieldPolicy(settings.policy, settings.body) : undefined;
  const compiled = withFieldPolicy(
    fields,
    compileBodyRules(settings.body, settings.usage, settings.countTokens, settings.generate),
  );
  const rules = settings.queued ? reading(compiled, ["stream"]) : compiled;
  const modelRules = settings.models ? reading(rules, ["model"]) : rules;
  const read = rules && reader(rules);
  return {
    rules: read,
    modelRules: modelRules === rules ? read : modelRules && reader(modelRules),
    pathStage: fields?.pathStage,
  };
}

/** How the body stage applies `rules`. */
function reader(rules: BodyRules): RulesReader {
  return {
    plan: (method, path) => rules.plan(method, path),
    apply: (raw, plan, path) =>
      typeof plan === "string"
        ? checkForm(raw, plan, rules, path)
        : Promise.resolve(applyBodyRules(raw, rules, path, SPLICE_ROOM, plan)),
    facts: bodyFacts,
  };
}
