/**
 * The input of Gemini requests: generateContent and streamGenerateContent, embedContent and
 * batchEmbedContents, and the Interactions API. Text is bounded by its bytes (no Gemini
 * tokenizer is public); inline images by their size, PDF pages and seconds of audio at the
 * documented rates; a file by URI (other than an image on Gemini 3), video, cached content,
 * a previous interaction, an agent or a built-in tool that fetches content make the input
 * unbounded. Google's JSON reader takes each field in lowerCamel or snake_case, so both
 * spellings are read everywhere.
 *
 * @module
 */
import { audioSeconds } from "./audio_length.ts";
import { imageSize } from "./image_size.ts";
import { AUDIO_TOKENS_PER_SECOND, geminiImageTokens, geminiPageTokens } from "./media_tokens.ts";
import { modelOf, type OutputShape } from "./openai_input.ts";
import { GEMINI } from "./overheads.ts";
import { pdfPages } from "./pdf_pages.ts";
import { type Json, list, multiplier, object, type Tally } from "./tally.ts";

/** The snake_case name of each lowerCamel field name asked for, worked out once. */
const SNAKE = new Map<string, string>();

/** A field by its lowerCamel name or its snake_case one (both, if both are set). */
function field(o: Json | undefined, camel: string): unknown[] {
  if (!o) return [];
  let snake = SNAKE.get(camel);
  if (snake === undefined) {
    snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    SNAKE.set(camel, snake);
  }
  const found: unknown[] = [];
  if (o[camel] !== undefined && o[camel] !== null) found.push(o[camel]);
  if (snake !== camel && o[snake] !== undefined && o[snake] !== null) found.push(o[snake]);
  return found;
}

const first = (o: Json | undefined, camel: string): unknown => field(o, camel)[0];

/** Part fields that describe other fields and hold nothing the model reads as input. */
const METADATA = new Set([
  "thought",
  "videoMetadata",
  "video_metadata",
  "mediaResolution",
  "media_resolution",
  "mediaProcessing",
  "media_processing",
  "partMetadata",
  "part_metadata",
  "speechMetadata",
  "speech_metadata",
]);

/** The UTF-8 text a base64 payload holds, or undefined when it is not base64. */
function decodeText(data: string): string | undefined {
  let binary: string;
  try {
    binary = atob(data);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** Inline media of `mime` whose base64 is `data`, at the part's or request's resolution. */
function media(
  t: Tally,
  model: string | undefined,
  mime: string,
  data: string,
  level: unknown,
): void {
  if (mime.startsWith("image/")) {
    const tokens = geminiImageTokens(model, imageSize(data), level);
    if (tokens === undefined) t.unbound(`an image of unknown size on ${model ?? "(no model)"}`);
    else t.text += tokens;
  } else if (mime.startsWith("audio/")) {
    const seconds = audioSeconds(data);
    if (seconds === undefined) t.unbound("audio of unknown length");
    else t.audio += Math.ceil(seconds) * AUDIO_TOKENS_PER_SECOND.gemini;
  } else if (mime === "application/pdf") {
    const pages = pdfPages(data);
    if (pages === undefined) t.unbound("a PDF whose pages cannot be counted");
    else t.text += pages * geminiPageTokens(model, level);
  } else if (mime.startsWith("text/")) {
    const text = decodeText(data);
    if (text === undefined) t.unbound("inline text that is not base64");
    else t.words(text);
  } else t.unbound(`inline data of type ${mime || "(none)"}`);
}

/** A file by URI: only an image on Gemini 3 has a cost that does not depend on its size. */
function fileByUri(t: Tally, model: string | undefined, mime: string, level: unknown): void {
  const tokens = mime.startsWith("image/") ? geminiImageTokens(model, undefined, level) : undefined;
  if (tokens === undefined) t.unbound(`a file by URI (${mime || "no type"})`);
  else t.text += tokens;
}

/** One part of a `Content`. */
function part(t: Tally, model: string | undefined, p: Json, level: unknown): void {
  t.text += GEMINI.part;
  const own = first(p, "mediaResolution") ?? level;
  for (const key in p) {
    if (METADATA.has(key)) continue;
    const value = p[key];
    switch (key) {
      case "text":
      case "thoughtSignature":
      case "thought_signature":
        // A thought signature is the thinking as ciphertext: assumed not smaller than its tokens.
        t.words(value);
        break;
      case "inlineData":
      case "inline_data": {
        const blob = object(value);
        const data = first(blob, "data");
        const mime = String(first(blob, "mimeType") ?? "").toLowerCase();
        if (typeof data === "string") media(t, model, mime, data, own);
        else t.unbound("inline data without data");
        break;
      }
      case "fileData":
      case "file_data": {
        const ref = object(value);
        fileByUri(t, model, String(first(ref, "mimeType") ?? "").toLowerCase(), own);
        break;
      }
      case "functionCall":
      case "function_call":
      case "executableCode":
      case "executable_code":
      case "codeExecutionResult":
      case "code_execution_result":
      case "toolCall":
      case "tool_call":
      case "toolResponse":
      case "tool_response":
        t.words(value);
        break;
      case "functionResponse":
      case "function_response": {
        const response = object(value);
        t.words(first(response, "name"));
        t.words(first(response, "response"));
        for (const nested of list(first(response, "parts"))) {
          const q = object(nested);
          if (q) part(t, model, q, own);
        }
        break;
      }
      default:
        t.unbound(`a part with ${key}`);
    }
  }
}

/** A `Content`: its turn framing and its parts. */
function content(t: Tally, model: string | undefined, value: unknown, level: unknown): void {
  const c = object(value);
  if (!c) return;
  t.text += GEMINI.content;
  for (const item of list(first(c, "parts"))) {
    const p = object(item);
    if (p) part(t, model, p, level);
  }
}

/** Built-in tools whose results join the input. */
function tools(t: Tally, value: unknown): void {
  const defined = list(value);
  if (defined.length === 0) return;
  for (const item of defined) {
    const tool = object(item);
    if (!tool) continue;
    for (const key in tool) {
      if (key === "functionDeclarations" || key === "function_declarations") t.words(tool[key]);
      else t.unbound(`the ${key} tool`);
    }
  }
  t.text += GEMINI.tools;
}

/**
 * A generateContent (or streamGenerateContent) request. The output is the cap
 * `candidateCount` times over; `responseModalities` says whether it may be audio or images.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateInput } from "./gemini_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.length);
 * const shape = generateInput({
 *   contents: [{ role: "user", parts: [{ text: "hi" }] }],
 *   generationConfig: { candidateCount: 2 },
 * }, tally, "gemini-2.5-flash");
 * assert.equal(tally.text, 3 + 5 + 1 + 2);
 * assert.equal(shape.times, 2);
 * ```
 */
export function generateInput(body: Json, t: Tally, model: string | undefined): OutputShape {
  const config = object(first(body, "generationConfig"));
  const level = first(config, "mediaResolution");
  t.text += GEMINI.request;
  for (const system of field(body, "systemInstruction")) content(t, model, system, level);
  for (const turn of list(first(body, "contents"))) content(t, model, turn, level);
  tools(t, first(body, "tools"));
  for (const toolConfig of field(body, "toolConfig")) t.words(toolConfig);
  if (first(body, "cachedContent") !== undefined) t.unbound("cached content");
  for (const name of ["responseSchema", "responseJsonSchema"]) {
    for (const schema of field(config, name)) {
      t.words(schema);
      t.text += GEMINI.schema;
    }
  }
  const modalities = list(first(config, "responseModalities")).map((m) => String(m).toUpperCase());
  return {
    times: multiplier(first(config, "candidateCount")),
    extra: 0,
    audio: modalities.includes("AUDIO"),
    image: modalities.includes("IMAGE"),
  };
}

/**
 * An embedContent or batchEmbedContents request: its contents are billed, nothing is
 * generated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embedInput } from "./gemini_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.length);
 * assert.equal(embedInput({ content: { parts: [{ text: "abc" }] } }, tally, undefined).times, 0);
 * assert.equal(tally.text, 5 + 1 + 3);
 * ```
 */
export function embedInput(body: Json, t: Tally, model: string | undefined): OutputShape {
  const requests = Array.isArray(body.requests) ? body.requests : [body];
  for (const item of requests) {
    const request = object(item);
    t.words(first(request, "title"));
    content(t, model, first(request, "content"), undefined);
  }
  return { times: 0, extra: 0, audio: false, image: false };
}

/** Content of the Interactions API: `{ type: "text" | "image" | ... }` objects and steps. */
function interactionContent(t: Tally, model: string | undefined, value: unknown): void {
  if (typeof value === "string") {
    t.words(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) interactionContent(t, model, item);
    return;
  }
  const c = object(value);
  if (!c) return;
  const type = String(c.type ?? "");
  if (["image", "audio", "document", "video"].includes(type)) {
    const mime = String(c.mime_type ?? c.mimeType ?? "").toLowerCase() ||
      (type === "document" ? "application/pdf" : `${type}/`);
    if (typeof c.data === "string") media(t, model, mime, c.data, c.resolution);
    else fileByUri(t, model, mime, c.resolution);
    return;
  }
  if (type === "text") {
    t.text += GEMINI.part;
    t.words(c.text);
    return;
  }
  // a step or turn: its framing, then whatever content it holds
  t.text += GEMINI.content;
  for (const key in c) {
    if (key === "type" || key === "role") continue;
    const v = c[key];
    if (typeof v === "string") t.words(v);
    else interactionContent(t, model, v);
  }
}

/**
 * A request to the Interactions API: an agent or a previous interaction makes it unbounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interactionInput } from "./gemini_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.length);
 * interactionInput({ model: "gemini-2.5-flash", input: "hi" }, tally);
 * assert.equal(tally.text, 3 + 2);
 * ```
 */
export function interactionInput(
  body: Json,
  t: Tally,
  model: string | undefined = modelOf(body),
): OutputShape {
  if (body.agent !== undefined) t.unbound("an agent");
  if (body.previous_interaction_id !== undefined) t.unbound("a previous interaction");
  t.text += GEMINI.request;
  for (const system of field(body, "systemInstruction")) interactionContent(t, model, system);
  interactionContent(t, model, body.input);
  for (const item of list(body.tools)) {
    const tool = object(item);
    if (tool?.type === "function") t.words(tool);
    else t.unbound(`the ${String(tool?.type)} tool`);
  }
  const config = object(first(body, "generationConfig"));
  const modalities = list(body.response_modalities ?? body.responseModalities)
    .map((m) => String(m).toUpperCase());
  return {
    times: multiplier(first(config, "candidateCount")),
    extra: 0,
    audio: modalities.includes("AUDIO"),
    image: modalities.includes("IMAGE"),
  };
}
