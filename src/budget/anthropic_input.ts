/**
 * The input of an Anthropic Messages request, walked block by block. No tokenizer for
 * current Claude models is public, so text is bounded by its bytes (see text_bound.ts);
 * images and PDF pages are charged at the documented maxima; a document by URL or file id,
 * a remote MCP server or a server tool whose results join the input makes it unbounded.
 * Cache breakpoints (`cache_control`) ask for cache writes, billed above the input price.
 *
 * @module
 */
import { imageSize } from "./image_size.ts";
import { anthropicImageTokens, anthropicPageTokens } from "./media_tokens.ts";
import { modelOf, type OutputShape } from "./openai_input.ts";
import { ANTHROPIC } from "./overheads.ts";
import { pdfPages } from "./pdf_pages.ts";
import { type Json, list, object, type Tally } from "./tally.ts";

/** Anthropic-defined tools the client runs: their definitions cost a fixed amount. */
const CLIENT_TOOLS = /^(?:bash|text_editor|computer|memory)_/;

/** Blocks the upstream returned from its own tools, echoed back as they are. */
const SERVER_RESULTS = new Set([
  "server_tool_use",
  "web_search_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
  "mcp_tool_use",
  "mcp_tool_result",
]);

/** The longest cache write anything in `value` asks for. */
function cacheWrites(value: unknown, t: Tally): void {
  if (Array.isArray(value)) {
    for (const item of value) cacheWrites(item, t);
    return;
  }
  const o = object(value);
  if (!o) return;
  const control = object(o.cache_control);
  if (control) {
    if (control.ttl === "1h") t.cacheWrite = "1h";
    else t.cacheWrite ??= "5m";
  }
  for (const key in o) {
    const v = o[key];
    if (v !== null && typeof v === "object") cacheWrites(v, t);
  }
}

/** A document block: a PDF by its pages, text by its bytes, content blocks one by one. */
function document(t: Tally, model: string | undefined, block: Json): void {
  t.text += ANTHROPIC.document;
  t.words(block.title);
  t.words(block.context);
  const source = object(block.source);
  switch (source?.type) {
    case "base64": {
      const pages = typeof source.data === "string" && source.media_type === "application/pdf"
        ? pdfPages(source.data)
        : undefined;
      if (pages === undefined) t.unbound("a document whose pages cannot be counted");
      else t.text += pages * anthropicPageTokens(model);
      return;
    }
    case "text":
      t.words(source.data);
      return;
    case "content":
      blocks(t, model, source.content);
      return;
    default:
      t.unbound("a document by URL or file id");
  }
}

/** Content: a string, or blocks, each with its framing. */
function blocks(t: Tally, model: string | undefined, value: unknown): void {
  if (typeof value === "string") {
    t.words(value);
    return;
  }
  for (const item of list(value)) {
    const block = object(item);
    if (!block) continue;
    t.text += ANTHROPIC.block;
    switch (block.type) {
      case "text":
        t.words(block.text);
        if (block.citations !== undefined && block.citations !== null) t.words(block.citations);
        break;
      case "image": {
        const source = object(block.source);
        const size = source?.type === "base64" && typeof source.data === "string"
          ? imageSize(source.data)
          : undefined;
        t.text += anthropicImageTokens(model, size); // by URL or file: the most an image costs
        break;
      }
      case "document":
        document(t, model, block);
        break;
      case "tool_use":
        t.words(block.id);
        t.words(block.name);
        t.words(block.input);
        break;
      case "tool_result":
        t.words(block.tool_use_id);
        blocks(t, model, block.content);
        break;
      case "search_result":
        t.words(block.source);
        t.words(block.title);
        blocks(t, model, block.content);
        break;
      case "thinking":
        // The signature carries the thinking as ciphertext: assumed not smaller than its tokens.
        t.words(block.thinking);
        if (typeof block.signature === "string") t.text += block.signature.length;
        break;
      case "redacted_thinking":
        if (typeof block.data === "string") t.text += block.data.length;
        break;
      default:
        if (SERVER_RESULTS.has(String(block.type))) t.words(block);
        else t.unbound(`a content block of type ${String(block.type)}`);
    }
  }
}

/**
 * A Messages request (and `count_tokens`, whose body is the same): system prompt, messages,
 * tools with the tool-use system prompt, structured-output schema; cache writes anywhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messagesInput } from "./anthropic_input.ts";
 * import { Tally } from "./tally.ts";
 *
 * const tally = new Tally((text) => text.length);
 * messagesInput({
 *   model: "claude-sonnet-4-5",
 *   system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral", ttl: "1h" } }],
 *   messages: [{ role: "user", content: "hi" }],
 * }, tally);
 * assert.equal(tally.text, 10 + (5 + 2 + 9) + (5 + 2));
 * assert.equal(tally.cacheWrite, "1h");
 * ```
 */
export function messagesInput(
  body: Json,
  t: Tally,
  model: string | undefined = modelOf(body),
): OutputShape {
  t.text += ANTHROPIC.request;
  if (body.system !== undefined && body.system !== null) {
    t.text += ANTHROPIC.message;
    blocks(t, model, body.system);
  }
  for (const item of list(body.messages)) {
    const message = object(item);
    if (!message) continue;
    t.text += ANTHROPIC.message;
    blocks(t, model, message.content);
  }
  const defined = list(body.tools);
  if (defined.length > 0) {
    t.text += ANTHROPIC.toolPrompt;
    for (const item of defined) {
      const tool = object(item);
      const type = tool?.type;
      if (type === undefined || type === null || type === "custom") t.words(tool);
      else if (CLIENT_TOOLS.test(String(type))) {
        t.words(tool);
        t.text += ANTHROPIC.clientTool;
      } else t.unbound(`the ${String(type)} tool`);
    }
    if (body.tool_choice !== undefined) t.words(body.tool_choice);
  }
  if (list(body.mcp_servers).length > 0) t.unbound("tools of remote MCP servers");
  const container = object(body.container);
  if (container && list(container.skills).length > 0) t.unbound("skills loaded in a container");
  for (const format of [body.output_format, object(body.output_config)?.format]) {
    if (format === undefined || format === null) continue;
    t.words(format);
    t.text += ANTHROPIC.schema;
  }
  cacheWrites(body, t);
  return { times: 1, extra: 0, audio: false, image: false };
}
