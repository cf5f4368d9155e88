/**
 * Rules over JSON request bodies, compiled once: a `model` allow list, a clamp on the
 * output-token fields of every API shape, deny patterns over the message text, and (on
 * routes with a token budget) a request for usage in OpenAI streams, which report none
 * unless asked. The rules see only the top-level fields they name (and the message text when
 * they deny patterns): the body rule scans the bytes for those and splices back what changed.
 *
 * @module
 */
import type { UsageFormat } from "../config/presets/mod.ts";
import type { BodyRulesConfig } from "../config/types.ts";

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
   * Applies the rules to `body`, which holds (at least) the top-level `fields` present in the
   * request, editing it in place. `text` is the message text when `text` is set.
   */
  apply(
    body: Record<string, unknown>,
    upstreamPath: string,
    text: readonly string[],
  ): BodyRefusal | BodyEdits;
}

type Json = Record<string, unknown>;

/** Fields that cap the tokens a model may write, by API. */
const TOKEN_FIELDS = ["max_tokens", "max_completion_tokens", "max_output_tokens"];
/** Gemini's generation settings, which hold its output cap; both spellings are accepted. */
const GENERATION_FIELDS = ["generationConfig", "generation_config"];
/** What an OpenAI stream's usage request reads. */
const STREAM_FIELDS = ["stream", "stream_options"];

/** OpenAI endpoints whose streams report usage only when `stream_options` asks. */
const COMPLETIONS = /\/(chat\/)?completions$/;

/** Gemini names the model in the path: `/v1beta/models/gemini-2.0-flash:generateContent`. */
const PATH_MODEL = /\/models\/([^/:]+)/;

/**
 * Clamps the output-token fields of every API shape to `max`, adding the right one when the
 * request sets none; the names of the top-level fields it rewrote go into `changed`. This is
 * the one place that decides what a clamp touches.
 */
function clamp(
  body: Json,
  max: number,
  format: UsageFormat | undefined,
  path: string,
  changed: Set<string>,
): void {
  let seen = false;
  const cut = (holder: Json, field: string, top: string) => {
    const value = holder[field];
    if (value === undefined || value === null) return;
    seen = true;
    if (typeof value !== "number" || value > max) {
      holder[field] = max;
      changed.add(top);
    }
  };
  for (const field of TOKEN_FIELDS) cut(body, field, field);
  const name = body.generationConfig !== undefined && body.generationConfig !== null
    ? "generationConfig"
    : "generation_config";
  const value = body[name];
  // An array is no settings object: a cap set on it would vanish when it is written.
  const generation = value && typeof value === "object" && !Array.isArray(value)
    ? value as Json
    : undefined;
  if (generation) {
    cut(generation, "maxOutputTokens", name);
    cut(generation, "max_output_tokens", name);
  }
  if (seen) return;
  // No cap in the request means the upstream's default, which may be far above the clamp.
  if (format === "gemini") {
    const config = generation ?? {};
    config.maxOutputTokens = max;
    body.generationConfig = config;
    changed.add("generationConfig");
    // The settings object may be the snake_case one, now holding the cap as well.
    if (config === generation) changed.add(name);
  } else {
    const field = format !== "openai"
      ? "max_tokens"
      : /\/responses$/.test(path)
      ? "max_output_tokens"
      : "max_completion_tokens";
    body[field] = max;
    changed.add(field);
  }
}

/**
 * Compiles a route's body rules. `countTokens` asks OpenAI streams for their usage.
 * Returns undefined when the route has nothing to do with its bodies.
 *
 * @example
 * ```ts
 * const rules = compileBodyRules({ models: ["gpt-4o-mini"], max_tokens: 1024 }, "openai", false);
 * rules?.fields; // model, max_tokens, max_completion_tokens, … (what a body is scanned for)
 * rules?.apply({ model: "gpt-4o" }, "/v1/chat/completions", []); // a 403 refusal
 * ```
 */
export function compileBodyRules(
  config: BodyRulesConfig | undefined,
  format: UsageFormat | undefined,
  countTokens: boolean,
): BodyRules | undefined {
  const models = config?.models ? new Set(config.models) : undefined;
  const max = config?.max_tokens;
  const deny = (config?.deny ?? []).map((pattern) => new RegExp(pattern, "i"));
  const askUsage = countTokens && format === "openai";
  if (!models && max === undefined && deny.length === 0 && !askUsage) return undefined;
  const fields = new Set<string>([
    ...(models ? ["model"] : []),
    ...(max !== undefined ? [...TOKEN_FIELDS, ...GENERATION_FIELDS] : []),
    ...(askUsage ? STREAM_FIELDS : []),
  ]);

  const apply = (body: Json, path: string, text: readonly string[]) => {
    const changed = new Set<string>();
    if (models) {
      const model = typeof body.model === "string" ? body.model : PATH_MODEL.exec(path)?.[1];
      if (model === undefined) {
        return refusal("invalid_request", "The request names no model");
      }
      if (!models.has(model)) {
        return refusal("forbidden", `Model ${model} is not allowed on this route`);
      }
    }
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
    if (max !== undefined) clamp(body, max, format, path, changed);
    if (askUsage && body.stream === true && COMPLETIONS.test(path)) {
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
  return { fields, text: deny.length > 0, apply };
}

function refusal(type: BodyRefusal["type"], message: string): BodyRefusal {
  return { type, message };
}
