/**
 * The route's body rules, applied to the frames of a realtime session: what `body.models`,
 * `body.max_tokens` and `body.deny` mean for a socket.
 *
 * - Models: OpenAI names the model in the upgrade's query (checked before the socket opens)
 *   and may name it again in `session.update`; Gemini names it in its first frame, `setup`
 *   (`models/X` and `X` are the same model). Each must be allowed by the route and by a client
 *   token's claims, and, on a route that counts dollars, have a price. A session keeps the
 *   model it opened with. A transcription model (`session.audio.input.transcription.model`,
 *   beta `input_audio_transcription.model`) must be allowed too.
 * - Output: `max_output_tokens` (beta `max_response_output_tokens`) is clamped in
 *   `session.update` and in each `response.create`, where it is added when absent; Gemini's
 *   `setup.generationConfig.maxOutputTokens` likewise. Responses the upstream starts on its own
 *   (server voice activity detection) have no `response.create`: see
 *   {@linkcode FrameRules.sessionClamp}.
 * - Deny patterns: over the text a client adds to the conversation (`input_text` items,
 *   Gemini's turns and text input).
 *
 * @module
 */
import type { SocketProtocol } from "../config/presets/preset.ts";
import { type Json, object } from "../budget/tally.ts";

/** Why a frame was refused: what the `error` event and the close reason say. */
export interface FrameRefusal {
  /** A short code (`model_not_allowed`), also the close reason. */
  code: string;
  /** What to tell the client. */
  message: string;
  /** The field at fault (`session.model`), as OpenAI's errors name it. */
  param?: string;
}

/** What the rules did with a frame: nothing, an edit in place, or a refusal. */
export type FrameVerdict = "pass" | "changed" | FrameRefusal;

/** What the frame rules of a route are made of. */
export interface FrameRuleSettings {
  /** `body.models`: the models a session may use. */
  models?: readonly string[];
  /** The output clamp (`body.max_tokens`, or a budget's default clamp). */
  max?: number;
  /** `body.deny`: case-insensitive patterns the client's text must not match. */
  deny?: readonly string[];
}

/** One session as the rules see it. */
export interface FrameContext {
  /** The protocol the session speaks. */
  readonly protocol: SocketProtocol;
  /** OpenAI's beta shapes (`OpenAI-Beta: realtime=v1`). */
  readonly beta: boolean;
  /** The model the session uses, once known (the upgrade's query, Gemini's `setup`). */
  model?: string;
  /** A client token's `models` claim, when it has one. */
  readonly granted?: ReadonlySet<string>;
  /** On a route that counts dollars: whether a model has a price. */
  readonly priced?: (model: string) => boolean;
}

/**
 * A Gemini model's bare name: `models/gemini-x` and `gemini-x` name the same model.
 *
 * @example
 * ```ts
 * import { bareModel } from "./rules.ts";
 *
 * if (bareModel("models/gemini-live-2.5-flash-preview") !== "gemini-live-2.5-flash-preview") {
 *   throw new Error("not bare");
 * }
 * ```
 */
export function bareModel(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}

/** Gemini's output cap, in every spelling its JSON reader takes (lowerCamel and proto names). */
const GEMINI_CAP: readonly [string, string][] = [
  ["generationConfig", "maxOutputTokens"],
  ["generation_config", "max_output_tokens"],
  ["generationConfig", "max_output_tokens"],
  ["generation_config", "maxOutputTokens"],
];

/** Clamps `holder[field]` to `max` (a number above it, `"inf"`, anything not a number). */
function clampField(holder: Json, field: string, max: number): boolean {
  const value = holder[field];
  if (value === undefined || value === null) return false;
  if (typeof value === "number" && value <= max) return false;
  holder[field] = max;
  return true;
}

/**
 * A route's frame rules, compiled once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameRules } from "./rules.ts";
 *
 * const rules = new FrameRules({ models: ["gpt-realtime"], max: 500 });
 * const context = { protocol: "openai" as const, beta: false, model: "gpt-realtime" };
 *
 * const create: Record<string, unknown> = { type: "response.create" };
 * assert.equal(rules.check(create, context), "changed");
 * assert.deepEqual(create, { type: "response.create", response: { max_output_tokens: 500 } });
 *
 * const other = { type: "session.update", session: { model: "gpt-4o-realtime-preview" } };
 * const refused = rules.check(other, context);
 * assert.equal(typeof refused === "object" && refused.code, "model_not_allowed");
 * ```
 */
export class FrameRules {
  readonly #models?: ReadonlySet<string>;
  readonly #max?: number;
  readonly #deny: readonly RegExp[];

  /** Compiles `settings`. */
  constructor(settings: FrameRuleSettings) {
    this.#models = settings.models ? new Set(settings.models.map(bareModel)) : undefined;
    this.#max = settings.max;
    this.#deny = (settings.deny ?? []).map((pattern) => new RegExp(pattern, "i"));
  }

  /** The output clamp, if the route has one. */
  get max(): number | undefined {
    return this.#max;
  }

  /** Whether the route names the models a session may use. */
  get hasModels(): boolean {
    return this.#models !== undefined;
  }

  /**
   * Whether `model` may be used: the route's models and the token's claims allow it, and it
   * has a price where dollars are counted. The refusal, or undefined.
   */
  checkModel(model: string, context: FrameContext, param?: string): FrameRefusal | undefined {
    const name = context.protocol === "gemini" ? bareModel(model) : model;
    if (this.#models && !this.#models.has(name)) {
      return { code: "model_not_allowed", message: `Model ${name} is not allowed here`, param };
    }
    if (context.granted && !context.granted.has(name)) {
      return { code: "model_not_allowed", message: `The token does not allow ${name}`, param };
    }
    if (context.priced && !context.priced(name)) {
      return {
        code: "model_not_priced",
        message: `Model ${name} has no price: add it under prices: in the config`,
        param,
      };
    }
    return undefined;
  }

  /** Applies the rules to one client frame (a parsed JSON object), editing it in place. */
  check(frame: Json, context: FrameContext): FrameVerdict {
    return context.protocol === "openai"
      ? this.#openai(frame, context)
      : this.#gemini(frame, context);
  }

  #openai(event: Json, context: FrameContext): FrameVerdict {
    const type = event.type;
    if (type === "session.update") {
      const session = object(event.session);
      if (!session) return "pass";
      const refused = this.#sessionModels(session, context);
      if (refused) return refused;
      const max = this.#max;
      if (max === undefined) return "pass";
      const a = clampField(session, "max_output_tokens", max);
      const b = clampField(session, "max_response_output_tokens", max);
      return a || b ? "changed" : "pass";
    }
    if (type === "response.create") {
      let response = object(event.response);
      if (response?.model !== undefined) {
        const refused = this.#named(response.model, context, "response.model");
        if (refused) return refused;
      }
      const max = this.#max;
      if (max === undefined) return "pass";
      if (!response) {
        if (event.response !== undefined && event.response !== null) {
          return {
            code: "invalid_frame",
            message: "response must be an object",
            param: "response",
          };
        }
        event.response = response = {};
      }
      const field = context.beta ? "max_response_output_tokens" : "max_output_tokens";
      const a = clampField(response, "max_output_tokens", max);
      const b = clampField(response, "max_response_output_tokens", max);
      if (response[field] === undefined || response[field] === null) {
        response[field] = max;
        return "changed";
      }
      return a || b ? "changed" : "pass";
    }
    if (type === "conversation.item.create" && this.#deny.length > 0) {
      const content = object(event.item)?.content;
      const texts: string[] = [];
      if (Array.isArray(content)) {
        for (const part of content) {
          const text = object(part)?.text;
          if (typeof text === "string") texts.push(text);
        }
      }
      return this.#denied(texts) ?? "pass";
    }
    return "pass";
  }

  /** The models a `session.update` names: the session's own and its transcription's. */
  #sessionModels(session: Json, context: FrameContext): FrameRefusal | undefined {
    if (session.model !== undefined) {
      const refused = this.#named(session.model, context, "session.model");
      if (refused) return refused;
      if (context.model !== undefined && session.model !== context.model) {
        return {
          code: "model_not_allowed",
          message: `A session keeps the model it opened with (${context.model})`,
          param: "session.model",
        };
      }
    }
    const ga = object(object(object(session.audio)?.input)?.transcription);
    const beta = object(session.input_audio_transcription);
    for (
      const [holder, param] of [
        [ga, "session.audio.input.transcription.model"],
        [beta, "session.input_audio_transcription.model"],
      ] as const
    ) {
      if (holder?.model === undefined || !this.#models) continue;
      const refused = this.#named(holder.model, { ...context, priced: undefined }, param);
      if (refused) return refused;
    }
    return undefined;
  }

  #named(model: unknown, context: FrameContext, param: string): FrameRefusal | undefined {
    if (typeof model !== "string") {
      return { code: "invalid_frame", message: "A model must be a string", param };
    }
    return this.checkModel(model, context, param);
  }

  #gemini(message: Json, context: FrameContext): FrameVerdict {
    const setup = object(message.setup);
    if (setup) {
      const model = setup.model;
      if (model === undefined) {
        return this.#models || context.granted || context.priced
          ? { code: "invalid_frame", message: "setup must name a model", param: "setup.model" }
          : "pass";
      }
      const refused = this.#named(model, context, "setup.model");
      if (refused) return refused;
      const name = bareModel(model as string);
      if (context.model !== undefined && context.model !== name) {
        return {
          code: "model_not_allowed",
          message: `A session keeps the model it opened with (${context.model})`,
          param: "setup.model",
        };
      }
      context.model = name;
      return this.#clampSetup(setup) ? "changed" : "pass";
    }
    if (this.#deny.length === 0) return "pass";
    const texts: string[] = [];
    const turns = object(message.clientContent)?.turns;
    if (Array.isArray(turns)) {
      for (const turn of turns) {
        const parts = object(turn)?.parts;
        if (!Array.isArray(parts)) continue;
        for (const part of parts) {
          const text = object(part)?.text;
          if (typeof text === "string") texts.push(text);
        }
      }
    }
    const input = object(message.realtimeInput)?.text;
    if (typeof input === "string") texts.push(input);
    return this.#denied(texts) ?? "pass";
  }

  /** Clamps the output cap of a Gemini `setup`, adding it when absent. */
  #clampSetup(setup: Json): boolean {
    const max = this.#max;
    if (max === undefined) return false;
    let changed = false;
    let seen = false;
    for (const [holderName, field] of GEMINI_CAP) {
      const holder = object(setup[holderName]);
      if (!holder || holder[field] === undefined || holder[field] === null) continue;
      seen = true;
      changed = clampField(holder, field, max) || changed;
    }
    if (seen) return changed;
    const snake = object(setup.generation_config);
    if (snake && !object(setup.generationConfig)) snake.max_output_tokens = max;
    else {
      const camel = object(setup.generationConfig) ?? {};
      camel.maxOutputTokens = max;
      setup.generationConfig = camel;
    }
    return true;
  }

  #denied(texts: readonly string[]): FrameRefusal | undefined {
    if (texts.length === 0) return undefined;
    const joined = texts.join("\n");
    const index = this.#deny.findIndex((pattern) => pattern.test(joined));
    if (index === -1) return undefined;
    return {
      code: "denied_text",
      message: `The message text matches deny rule ${index + 1} of this route`,
    };
  }

  /**
   * The `session.update` the gateway sends when an OpenAI session opens, before the client
   * sees it: it sets the session's own output maximum, which bounds the responses the
   * upstream starts by itself (server voice activity detection), with no `response.create` to
   * clamp. Undefined when the route has no clamp.
   *
   * @example
   * ```ts
   * import { FrameRules } from "./rules.ts";
   *
   * const update = new FrameRules({ max: 500 }).sessionClamp(false, "evt_kw");
   * if (update !== '{"type":"session.update","event_id":"evt_kw","session":{"type":"realtime","max_output_tokens":500}}') {
   *   throw new Error(update);
   * }
   * ```
   */
  sessionClamp(beta: boolean, eventId: string): string | undefined {
    const max = this.#max;
    if (max === undefined) return undefined;
    const session = beta
      ? { max_response_output_tokens: max }
      : { type: "realtime", max_output_tokens: max };
    return JSON.stringify({ type: "session.update", event_id: eventId, session });
  }
}
