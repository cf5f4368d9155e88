/**
 * The input of OpenAI requests, walked field by field: Chat Completions, Responses, legacy
 * completions and embeddings. Text is counted with the model's own tokenizer (through the
 * tally), framed as the cookbook documents; images, audio and PDF files at their documented
 * maxima (see media_tokens.ts); anything whose size the request does not show (a file id, a
 * stored response or conversation, a built-in tool that fetches content) marks the input
 * unbounded.
 *
 * @module
 */
import { audioSeconds } from "./audio_length.ts";
import { dataUrl } from "./base64.ts";
import { imageSize } from "./image_size.ts";
import { AUDIO_TOKENS_PER_SECOND, openaiImageTokens, openaiPageTokens } from "./media_tokens.ts";
import { OPENAI } from "./overheads.ts";
import { pdfPages } from "./pdf_pages.ts";
import { type Json, list, multiplier, object, type Tally } from "./tally.ts";

/** What a request may generate, beside its input. */
export interface OutputShape {
  /** How many times the output cap may be spent (`n`, `best_of`, prompts in a batch). */
  times: number;
  /** Tokens generated on top of that (a prediction's rejected tokens). */
  extra: number;
  /** Whether the output may be audio. */
  audio: boolean;
  /** Whether the output may be images. */
  image: boolean;
}

const TEXT_ONLY: OutputShape = { times: 1, extra: 0, audio: false, image: false };

/** Built-in tools of the Responses API whose results the upstream adds to the input. */
const FETCHING_TOOLS = /^(?:web_search|file_search|code_interpreter|mcp|image_generation)/;

/** The body's `model`, if it names one. */
export function modelOf(body: Json): string | undefined {
  return typeof body.model === "string" ? body.model : undefined;
}

/** An image from a URL (a `data:` URL is read for its size) at `detail`. */
function image(t: Tally, model: string | undefined, url: unknown, detail: unknown): void {
  const data = typeof url === "string" ? dataUrl(url) : undefined;
  const size = data ? imageSize(url as string, data.at) : undefined;
  const tokens = openaiImageTokens(model, size, detail);
  if (tokens !== undefined) t.text += tokens;
  else if (openaiImageTokens(model, size) !== undefined) {
    t.unbound(`an image at detail ${String(detail)}`);
  } else t.unbound(`images on model ${model ?? "(none)"}`);
}

/** Audio given inline (`{ data, format }`), at the assumed rate per second. */
function audio(t: Tally, input: Json | undefined): void {
  const data = input?.data;
  const seconds = typeof data === "string" ? audioSeconds(data) : undefined;
  if (seconds === undefined) t.unbound("audio of unknown length");
  else t.audio += Math.ceil(seconds) * AUDIO_TOKENS_PER_SECOND.openai;
}

/** A file given inline as a `data:` URL: a PDF is counted by its pages. */
function file(t: Tally, model: string | undefined, data: unknown, id: unknown): void {
  const url = typeof data === "string" ? dataUrl(data) : undefined;
  if (!url) {
    t.unbound(id !== undefined ? "a file by id or URL" : "a file that is not a data URL");
    return;
  }
  const pages = url.type === "application/pdf"
    ? pdfPages((data as string).slice(url.at))
    : undefined;
  const perPage = openaiPageTokens(model);
  if (pages === undefined || perPage === undefined) {
    t.unbound("a file whose pages cannot be counted");
  } else t.text += pages * perPage;
}

/**
 * The content of a message: a string, or parts (Chat Completions and Responses spellings).
 * Each text part after the first pays {@linkcode OPENAI.part}.
 */
function content(t: Tally, model: string | undefined, value: unknown): void {
  if (typeof value === "string") {
    t.text += t.count(value);
    return;
  }
  let texts = 0;
  for (const item of list(value)) {
    const part = object(item);
    if (!part) continue;
    switch (part.type) {
      case "text":
      case "input_text":
      case "output_text":
      case "summary_text":
      case "reasoning_text":
        if (texts++ > 0) t.text += OPENAI.part;
        t.words(part.text);
        break;
      case "refusal":
        if (texts++ > 0) t.text += OPENAI.part;
        t.words(part.refusal);
        break;
      case "image_url": {
        const ref = object(part.image_url);
        image(t, model, ref?.url ?? part.image_url, ref?.detail);
        break;
      }
      case "input_image":
        if (part.image_url === undefined && part.file_id !== undefined) {
          // an image by id is still an image: the family's most, at its detail
          image(t, model, undefined, part.detail);
        } else image(t, model, part.image_url, part.detail);
        break;
      case "input_audio":
        audio(t, object(part.input_audio) ?? part);
        break;
      case "file": {
        const ref = object(part.file);
        file(t, model, ref?.file_data, ref?.file_id);
        break;
      }
      case "input_file":
        file(t, model, part.file_data, part.file_id ?? part.file_url);
        break;
      default:
        t.unbound(`a content part of type ${String(part.type)}`);
    }
  }
}

/** Tools, functions and the tool choice: their JSON's tokens and the tool framing. */
function tools(t: Tally, body: Json): void {
  const defined = [...list(body.tools), ...list(body.functions)];
  if (defined.length === 0) return;
  t.words(defined);
  const choice = body.tool_choice ?? body.function_call;
  if (choice !== undefined && typeof choice !== "string") t.words(choice);
  t.text += OPENAI.tools;
}

/** A schema the reply must follow. */
function schema(t: Tally, format: unknown): void {
  if (format === undefined || format === null) return;
  t.words(format);
  t.text += OPENAI.schema;
}

/**
 * A Chat Completions request: messages with their framing, tools, a response schema; the
 * output is the cap `n` times over, with the prediction's tokens on top.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatInput } from "./openai_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.split(" ").length); // a stand-in tokenizer
 * const shape = chatInput({ model: "gpt-4o", n: 2, messages: [{ role: "user", content: "hi" }] }, tally);
 * assert.equal(tally.text, 3 + 1 + 1 + 3); // framing, role, text, reply priming
 * assert.equal(shape.times, 2);
 * ```
 */
export function chatInput(
  body: Json,
  t: Tally,
  model: string | undefined = modelOf(body),
): OutputShape {
  t.text += OPENAI.reply;
  for (const item of list(body.messages)) {
    const message = object(item);
    if (!message) continue;
    t.text += OPENAI.message;
    t.words(message.role);
    if (message.name !== undefined) {
      t.words(message.name);
      t.text += OPENAI.name;
    }
    content(t, model, message.content);
    if (message.refusal !== undefined) t.words(message.refusal);
    if (message.tool_call_id !== undefined) t.words(message.tool_call_id);
    for (const call of list(message.tool_calls)) {
      const c = object(call);
      const fn = object(c?.function) ?? object(c?.custom);
      t.words(c?.id);
      t.words(fn?.name);
      t.words(fn?.arguments ?? fn?.input);
      t.text += OPENAI.toolCall;
    }
    const legacy = object(message.function_call);
    if (legacy) {
      t.words(legacy.name);
      t.words(legacy.arguments);
      t.text += OPENAI.toolCall;
    }
    if (message.audio !== undefined && message.audio !== null) {
      t.unbound("an earlier audio reply by id");
    }
  }
  tools(t, body);
  schema(t, body.response_format);
  if (body.web_search_options !== undefined) t.unbound("web search results");
  const prediction = object(body.prediction);
  let extra = 0;
  if (prediction) {
    const before = t.text;
    content(t, model, prediction.content);
    extra = t.text - before; // rejected prediction tokens are billed as output
    t.text = before;
  }
  const modalities = list(body.modalities);
  return {
    times: multiplier(body.n),
    extra,
    audio: modalities.includes("audio"),
    image: false,
  };
}

/** One item of a Responses `input` list. */
function responseItem(t: Tally, model: string | undefined, item: Json): void {
  const type = item.type ?? (item.role !== undefined ? "message" : undefined);
  switch (type) {
    case "message":
      t.text += OPENAI.message;
      t.words(item.role);
      content(t, model, item.content);
      return;
    case "function_call":
    case "custom_tool_call":
      t.words(item.call_id);
      t.words(item.name);
      t.words(item.arguments ?? item.input);
      t.text += OPENAI.toolCall;
      return;
    case "function_call_output":
    case "custom_tool_call_output":
      t.words(item.call_id);
      if (typeof item.output === "string") t.words(item.output);
      else content(t, model, item.output);
      t.text += OPENAI.toolCall;
      return;
    case "computer_call_output": {
      const output = object(item.output);
      t.words(item.call_id);
      image(t, model, output?.image_url, undefined);
      t.text += OPENAI.toolCall;
      return;
    }
    case "reasoning":
    case "compaction":
      // Opaque ciphertext of the reasoning: assumed not smaller than the tokens it holds.
      if (typeof item.encrypted_content !== "string") {
        t.unbound(`a ${type} item kept upstream`);
        return;
      }
      t.text += item.encrypted_content.length;
      for (const summary of list(item.summary)) t.words(object(summary)?.text);
      for (const part of list(item.content)) t.words(object(part)?.text);
      return;
    case "computer_call":
    case "web_search_call":
    case "file_search_call":
    case "code_interpreter_call":
    case "local_shell_call":
    case "local_shell_call_output":
    case "shell_call":
    case "shell_call_output":
    case "apply_patch_call":
    case "apply_patch_call_output":
    case "mcp_list_tools":
    case "mcp_approval_request":
    case "mcp_approval_response":
    case "mcp_call":
      // tool calls and results echoed back: rendered from what they hold
      t.words(item);
      t.text += OPENAI.toolCall;
      return;
    default:
      t.unbound(`an input item of type ${String(type)}`);
  }
}

/**
 * A Responses request (and `/responses/compact`): instructions, input items, tools, a text
 * format. A stored response, conversation or prompt, and built-in tools that fetch content,
 * make the input unbounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { responsesInput } from "./openai_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.split(" ").length);
 * responsesInput({ model: "gpt-4o", input: "hi", previous_response_id: "resp_1" }, tally);
 * assert.equal(tally.unbounded, "a stored response or conversation");
 * ```
 */
export function responsesInput(
  body: Json,
  t: Tally,
  model: string | undefined = modelOf(body),
): OutputShape {
  t.text += OPENAI.reply;
  if (body.previous_response_id !== undefined || body.conversation !== undefined) {
    t.unbound("a stored response or conversation");
  }
  if (body.prompt !== undefined && body.prompt !== null) t.unbound("a stored prompt");
  if (body.instructions !== undefined && body.instructions !== null) {
    t.text += OPENAI.message + 1; // a developer message
    if (typeof body.instructions === "string") t.words(body.instructions);
    else for (const item of list(body.instructions)) responseItem(t, model, object(item) ?? {});
  }
  if (typeof body.input === "string") {
    t.text += OPENAI.message + 1; // a user message
    t.words(body.input);
  } else {
    for (const item of list(body.input)) {
      const entry = object(item);
      if (entry) responseItem(t, model, entry);
    }
  }
  let image = false;
  for (const tool of list(body.tools)) {
    const type = String(object(tool)?.type ?? "");
    if (type === "image_generation") image = true;
    if (FETCHING_TOOLS.test(type)) t.unbound(`the ${type} tool`);
  }
  tools(t, body);
  const text = object(body.text);
  schema(t, text?.format);
  return { times: 1, extra: 0, audio: false, image };
}

/** Prompts of a completion or an embedding: text, texts, token ids or lists of token ids. */
function prompts(t: Tally, value: unknown): number {
  if (typeof value === "string") {
    t.words(value);
    return 1;
  }
  if (!Array.isArray(value)) return 1;
  if (value.every((v) => typeof v === "number")) {
    t.text += value.length; // token ids: counted as they are
    return 1;
  }
  let n = 0;
  for (const prompt of value) {
    if (typeof prompt === "string") t.words(prompt);
    else if (Array.isArray(prompt)) t.text += prompt.length;
    else t.words(prompt);
    n++;
  }
  return Math.max(1, n);
}

/**
 * A legacy completion: each prompt of a batch is answered `max(n, best_of)` times.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completionsInput } from "./openai_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.length);
 * const shape = completionsInput({ prompt: ["ab", "cd"], n: 2, best_of: 3 }, tally);
 * assert.equal(tally.text, 4);
 * assert.equal(shape.times, 6);
 * ```
 */
export function completionsInput(body: Json, t: Tally): OutputShape {
  const batch = prompts(t, body.prompt);
  t.words(body.suffix);
  const times = batch * Math.max(multiplier(body.n), multiplier(body.best_of));
  return { ...TEXT_ONLY, times };
}

/**
 * An embedding: its inputs are billed, nothing is generated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddingsInput } from "./openai_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.length);
 * assert.equal(embeddingsInput({ input: [[1, 2, 3], "abcd"] }, tally).times, 0);
 * assert.equal(tally.text, 7);
 * ```
 */
export function embeddingsInput(body: Json, t: Tally): OutputShape {
  prompts(t, body.input);
  return { ...TEXT_ONLY, times: 0 };
}
