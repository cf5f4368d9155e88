/**
 * Rules over JSON request bodies, compiled once: a `model` allow list, a clamp on the
 * output-token fields of every API shape, deny patterns over the message text, and (on
 * routes with a token budget) a request for usage in OpenAI streams, which report none
 * unless asked.
 *
 * @module
 */
import type { UsageFormat } from "../config/presets/mod.ts";
import type { BodyRulesConfig } from "../config/types.ts";
import { messageText } from "./message_text.ts";

/** Why a body was refused. */
export interface BodyRefusal {
  /** 400 for a malformed or denied body, 403 for what is not allowed, 413 for an upload. */
  type: "invalid_request" | "forbidden" | "payload_too_large";
  /** What to tell the client. */
  message: string;
}

/**
 * Applies a route's rules to a parsed body in place; returns a refusal or whether it changed.
 * `text` is the JSON the body was parsed from (a field policy reads its repeated keys).
 */
export type BodyRules = (
  body: Record<string, unknown>,
  upstreamPath: string,
  text?: string,
) => BodyRefusal | { changed: boolean };

type Json = Record<string, unknown>;

/** Fields that cap the tokens a model may write, by API. */
const TOKEN_FIELDS = ["max_tokens", "max_completion_tokens", "max_output_tokens"];

/** OpenAI endpoints whose streams report usage only when `stream_options` asks. */
const COMPLETIONS = /\/(chat\/)?completions$/;

/** Gemini names the model in the path: `/v1beta/models/gemini-2.0-flash:generateContent`. */
const PATH_MODEL = /\/models\/([^/:]+)/;

function clamp(body: Json, max: number, format: UsageFormat | undefined, path: string): boolean {
  let changed = false;
  let seen = false;
  const cut = (holder: Json, field: string) => {
    const value = holder[field];
    if (value === undefined || value === null) return;
    seen = true;
    if (typeof value !== "number" || value > max) {
      holder[field] = max;
      changed = true;
    }
  };
  for (const field of TOKEN_FIELDS) cut(body, field);
  const generation = (body.generationConfig ?? body.generation_config) as Json | undefined;
  if (generation && typeof generation === "object") {
    cut(generation, "maxOutputTokens");
    cut(generation, "max_output_tokens");
  }
  if (seen) return changed;
  // No cap in the request means the upstream's default, which may be far above the clamp.
  if (format === "gemini") {
    const config = generation && typeof generation === "object" ? generation : {};
    config.maxOutputTokens = max;
    body.generationConfig = config;
  } else if (format === "anthropic") {
    body.max_tokens = max;
  } else if (format === "openai") {
    body[/\/responses$/.test(path) ? "max_output_tokens" : "max_completion_tokens"] = max;
  } else {
    body.max_tokens = max;
  }
  return true;
}

/**
 * Compiles a route's body rules. `countTokens` asks OpenAI streams for their usage.
 * Returns undefined when the route has nothing to do with its bodies.
 *
 * @example
 * ```ts
 * const rules = compileBodyRules({ models: ["gpt-4o-mini"], max_tokens: 1024 }, "openai", false);
 * rules?.({ model: "gpt-4o", messages: [] }, "/v1/chat/completions"); // a 403 refusal
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

  return (body, path) => {
    let changed = false;
    if (models) {
      const model = typeof body.model === "string" ? body.model : PATH_MODEL.exec(path)?.[1];
      if (model === undefined) {
        return { type: "invalid_request", message: "The request names no model" };
      }
      if (!models.has(model)) {
        return { type: "forbidden", message: `Model ${model} is not allowed on this route` };
      }
    }
    if (deny.length > 0) {
      const text = messageText(body).join("\n");
      const index = deny.findIndex((pattern) => pattern.test(text));
      if (index !== -1) {
        return {
          type: "invalid_request",
          message: `The message text matches deny rule ${index + 1} of this route`,
        };
      }
    }
    if (max !== undefined) changed = clamp(body, max, format, path) || changed;
    if (askUsage && body.stream === true && COMPLETIONS.test(path)) {
      const options = body.stream_options;
      if (options === undefined || options === null || typeof options === "object") {
        const current = (options ?? {}) as Json;
        if (current.include_usage !== true) {
          body.stream_options = { ...current, include_usage: true };
          changed = true;
        }
      }
    }
    return { changed };
  };
}
