/**
 * Rules over JSON request bodies, compiled once: a `model` allow list, a clamp on the output
 * cap of the endpoints that generate (each in its own field, from the preset's table), deny
 * patterns over the message text, and (on routes with a token budget) a request for usage in
 * OpenAI streams, which report none unless asked. Which endpoint a body goes to is settled
 * before it is read (`plan`): bodies the rules do not concern are not read at all. The rules
 * see only the top-level fields they name (and the message text when they deny patterns): the
 * body stage scans the bytes for those and splices back what changed (apply.ts).
 *
 * @module
 */
import { pathModel } from "../config/presets/gemini.ts";
import type { UsageFormat } from "../config/presets/mod.ts";
import type { BodyRulesConfig } from "../config/types.ts";
import { compileAllow } from "../rules/allow_list.ts";

/** Why a body was refused. */
export interface BodyRefusal {
  /** 400 for a malformed or denied body, 403 for what is not allowed, 413 for an upload. */
  type: "invalid_request" | "forbidden" | "payload_too_large";
  /** What to tell the client. */
  message: string;
}

/** What the rules changed: the top-level fields whose values they replaced or added. */
export interface BodyEdits {
  /** Names of the top-level fields to write back (empty when the body stands as sent). */
  changed: ReadonlySet<string>;
}

/** One place an output cap is written: a top-level field, or a field of a settings object. */
export interface CapField {
  /** The top-level field holding the settings object, when the cap sits inside one. */
  readonly object?: string;
  /** The cap's own field. */
  readonly field: string;
}

/**
 * What a route's body rules do on one endpoint, decided from its method and path before the
 * body is read.
 */
export interface BodyPlan {
  /** Whether the endpoint generates: its body must name a model when `models` is set. */
  readonly generates: boolean;
  /** Where its output cap sits (the first is added when none is set); empty when no clamp. */
  readonly cap: readonly CapField[];
  /**
   * What becomes of a body that is not JSON: `pass` as it is, `refuse` it, or read it as
   * `form` data for its `model` (any other type refused).
   */
  readonly other: "pass" | "refuse" | "form";
  /**
   * Whether a request to the endpoint must have a body: the rules need a field of it (a
   * generating endpoint's `model`, or its output cap to clamp; a field the preset's policy
   * reads). One without is refused with 400 rather than sent unread.
   */
  readonly needsBody?: boolean;
}

/**
 * A route's body rules, compiled. They read only a few top-level fields of a body (and its
 * message text when `text`), so the body is scanned, not parsed: see `scan.ts`.
 */
export interface BodyRules {
  /** The top-level fields the rules read or write; `"all"` when they check every one. */
  readonly fields: ReadonlySet<string> | "all";
  /** Whether the rules read the message text (deny patterns). */
  readonly text: boolean;
  /**
   * What the rules do with bodies sent to `method path`: undefined when they leave them
   * alone (the body is then not read at all).
   */
  plan(method: string, path: string): BodyPlan | undefined;
  /**
   * Applies the rules to `body`, which holds (at least) the top-level `fields` present in the
   * request, editing it in place. `text` is the message text when `text` is set; `plan` is
   * the endpoint's (that of a generating `POST` when left out).
   */
  apply(
    body: Record<string, unknown>,
    upstreamPath: string,
    text: readonly string[],
    plan?: BodyPlan,
  ): BodyRefusal | BodyEdits;
  /** Checks the model a form body names (`undefined` when it names none, or several). */
  checkModel(model: string | undefined, upstreamPath: string): BodyRefusal | undefined;
}

/**
 * Where a preset's generating endpoints take their output cap: `METHOD /glob` to field paths
 * (`max_tokens`, `generationConfig.maxOutputTokens`); an empty list for an endpoint that
 * generates but takes no cap. See `Preset.generate`.
 */
export type GenerateTable = Readonly<Record<string, readonly string[]>>;

type Json = Record<string, unknown>;

/** Fields that cap the tokens a model may write, by API. */
const TOKEN_FIELDS = ["max_tokens", "max_completion_tokens", "max_output_tokens"];
/** Gemini's output cap: both spellings of the settings object and of the field are read. */
const GEMINI_CAP = [
  "generationConfig.maxOutputTokens",
  "generation_config.max_output_tokens",
  "generationConfig.max_output_tokens",
  "generation_config.maxOutputTokens",
];
/** What an OpenAI stream's usage request reads. */
const STREAM_FIELDS = ["stream", "stream_options"];

/** OpenAI endpoints whose streams report usage only when `stream_options` asks. */
const COMPLETIONS = /\/(chat\/)?completions$/;

/** Parses `max_tokens` or `generationConfig.maxOutputTokens`. */
function capField(path: string): CapField {
  const dot = path.indexOf(".");
  return dot === -1 ? { field: path } : { object: path.slice(0, dot), field: path.slice(dot + 1) };
}

/**
 * The cap fields of a route without a generate table, as before such tables: every API's
 * field clamped where set, and the one the route's format (and, for OpenAI, the path) names
 * added when none is.
 */
function defaultCap(format: UsageFormat | undefined, responses: boolean): CapField[] {
  const first = format === "gemini"
    ? GEMINI_CAP
    : format !== "openai"
    ? ["max_tokens"]
    : responses
    ? ["max_output_tokens"]
    : ["max_completion_tokens"];
  const rest = [...TOKEN_FIELDS, ...GEMINI_CAP].filter((path) => !first.includes(path));
  return [...first, ...rest].map(capField);
}

function settingsOf(body: Json, name: string): Json | undefined {
  const value = body[name];
  // An array is no settings object: a cap set on it would vanish when it is written.
  return value && typeof value === "object" && !Array.isArray(value) ? value as Json : undefined;
}

/**
 * Clamps the output cap of one endpoint to `max` wherever the body sets it, and adds it when
 * the body sets none: in the first settings object the body already has, else at the first
 * of `cap`. The names of the top-level fields it rewrote go into `changed`. This is the one
 * place that decides what a clamp touches.
 */
function clamp(body: Json, max: number, cap: readonly CapField[], changed: Set<string>): void {
  let seen = false;
  for (const { object, field } of cap) {
    const holder = object === undefined ? body : settingsOf(body, object);
    const value = holder?.[field];
    if (value === undefined || value === null) continue;
    seen = true;
    if (typeof value !== "number" || value > max) {
      holder![field] = max;
      changed.add(object ?? field);
    }
  }
  // No cap in the request means the upstream's default, which may be far above the clamp.
  if (seen || cap.length === 0) return;
  const at = cap.find(({ object }) => object !== undefined && settingsOf(body, object)) ?? cap[0];
  if (at.object === undefined) body[at.field] = max;
  else {
    const holder = settingsOf(body, at.object) ?? {};
    holder[at.field] = max;
    body[at.object] = holder;
  }
  changed.add(at.object ?? at.field);
}

/**
 * Compiles which endpoints generate, and where each takes its cap: the route's own `generate`
 * entries, else the preset's table; with neither, every endpoint, capped as `defaultCap`
 * says. Returns a lookup by method and path.
 */
function compileGenerate(
  table: GenerateTable | undefined,
  own: readonly string[] | undefined,
  format: UsageFormat | undefined,
): (method: string, path: string) => readonly CapField[] | undefined {
  const entries = Object.entries(table ?? {}).map(([entry, fields]) => ({
    match: compileAllow([entry]),
    cap: fields.map(capField),
  }));
  const fallback = [defaultCap(format, false), defaultCap(format, true)];
  const byFormat = (path: string) => fallback[/\/responses$/.test(path) ? 1 : 0];
  // One test answers for most requests (the endpoints that do not generate); only a match
  // looks for its entry.
  const anyEntry = compileAllow(Object.keys(table ?? {}));
  const fromTable = (method: string, path: string) =>
    anyEntry(method, path) ? entries.find((entry) => entry.match(method, path))?.cap : undefined;
  if (own) {
    const listed = compileAllow(own);
    return (method, path) =>
      listed(method, path) ? fromTable(method, path) ?? byFormat(path) : undefined;
  }
  if (table) return fromTable;
  return (_method, path) => byFormat(path);
}

/**
 * Compiles a route's body rules. `countTokens` asks OpenAI streams for their usage; `table`
 * is the preset's generating endpoints (see {@linkcode GenerateTable}). Returns undefined
 * when the route has nothing to do with its bodies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileBodyRules } from "./rules.ts";
 *
 * const rules = compileBodyRules({ models: ["gpt-4o-mini"], max_tokens: 1024 }, "openai", false)!;
 * assert.ok(rules.fields !== "all" && rules.fields.has("model")); // what a body is scanned for
 *
 * const path = "/v1/chat/completions";
 * assert.deepEqual(rules.apply({ model: "gpt-4o" }, path, []), {
 *   type: "forbidden",
 *   message: "Model gpt-4o is not allowed on this route",
 * });
 *
 * const body = { model: "gpt-4o-mini", max_tokens: 9000 };
 * assert.deepEqual(rules.apply(body, path, []), { changed: new Set(["max_tokens"]) });
 * assert.equal(body.max_tokens, 1024); // clamped in place
 * ```
 */
export function compileBodyRules(
  config: BodyRulesConfig | undefined,
  format: UsageFormat | undefined,
  countTokens: boolean,
  table?: GenerateTable,
): BodyRules | undefined {
  const models = config?.models ? new Set(config.models) : undefined;
  const max = config?.max_tokens;
  const deny = (config?.deny ?? []).map((pattern) => new RegExp(pattern, "i"));
  const askUsage = countTokens && format === "openai";
  if (!models && max === undefined && deny.length === 0 && !askUsage) return undefined;
  const generate = compileGenerate(table, config?.generate, format);
  const capTops = new Set<string>();
  if (max !== undefined) {
    const all = [
      ...Object.values(table ?? {}).flat(),
      ...(table && !config?.generate ? [] : [...TOKEN_FIELDS, ...GEMINI_CAP]),
    ];
    for (const path of all) capTops.add(capField(path).object ?? path);
  }
  const fields = new Set<string>([
    ...(models ? ["model"] : []),
    ...capTops,
    ...(askUsage ? STREAM_FIELDS : []),
  ]);
  const none: readonly CapField[] = [];
  // Plans are few: one per kind of endpoint, made here, not per request.
  const plans = new Map<readonly CapField[] | undefined, BodyPlan | undefined>();
  const planOf = (cap: readonly CapField[] | undefined): BodyPlan | undefined => {
    if (plans.has(cap)) return plans.get(cap);
    const generates = cap !== undefined;
    const clamps = max !== undefined && generates && cap.length > 0;
    // A model to check or a cap to clamp: without a body there is nothing to read them in.
    const needsBody = generates && (models !== undefined || clamps);
    let plan: BodyPlan | undefined;
    if (deny.length > 0) {
      plan = { generates, cap: clamps ? cap : none, other: "refuse", needsBody };
    } else if (models) {
      const other = clamps ? "refuse" : "form";
      plan = { generates, cap: clamps ? cap : none, other, needsBody };
    } else if (clamps) plan = { generates, cap, other: "refuse", needsBody };
    // Only the stream usage request is left, for OpenAI completions.
    else if (askUsage && generates) plan = { generates, cap: none, other: "pass" };
    plans.set(cap, plan);
    return plan;
  };
  const unplanned: BodyPlan = { generates: false, cap: none, other: "pass" };

  const checkModel = (model: string | undefined, path: string, required: boolean) => {
    if (!models) return undefined;
    model ??= pathModel(path);
    if (model === undefined) {
      return required ? refusal("invalid_request", "The request names no model") : undefined;
    }
    if (!models.has(model)) {
      return refusal("forbidden", `Model ${model} is not allowed on this route`);
    }
    return undefined;
  };

  const apply = (body: Json, path: string, text: readonly string[], plan?: BodyPlan) => {
    plan ??= planOf(generate("POST", path)) ?? unplanned;
    const changed = new Set<string>();
    const named = body.model;
    // A model that is not a string names one in a way an upstream may read another way.
    if (models && named !== undefined && named !== null && typeof named !== "string") {
      return refusal("invalid_request", "The model must be a string");
    }
    const model = typeof named === "string" ? named : undefined;
    const refused = checkModel(model, path, plan.generates);
    if (refused) return refused;
    if (deny.length > 0) {
      const joined = text.join("\n");
      const index = deny.findIndex((pattern) => pattern.test(joined));
      if (index !== -1) {
        return refusal(
          "invalid_request",
          `The message text matches deny rule ${index + 1} of this route`,
        );
      }
    }
    if (max !== undefined) clamp(body, max, plan.cap, changed);
    if (askUsage && plan.generates && body.stream === true && COMPLETIONS.test(path)) {
      const options = body.stream_options;
      if (options === undefined || options === null || typeof options === "object") {
        const current = (options ?? {}) as Json;
        if (current.include_usage !== true) {
          body.stream_options = { ...current, include_usage: true };
          changed.add("stream_options");
        }
      }
    }
    return { changed };
  };
  return {
    fields,
    text: deny.length > 0,
    plan: (method, path) => planOf(generate(method, path)),
    apply,
    // A form body must name its model once: a form the rules cannot read never slips past.
    checkModel: (model, path) => checkModel(model, path, true),
  };
}

function refusal(type: BodyRefusal["type"], message: string): BodyRefusal {
  return { type, message };
}
