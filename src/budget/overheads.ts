/**
 * The tokens a provider adds around the text of a request: message framing, the reply's
 * priming, tool definitions and the system prompt that introduces them. Each is a sound upper
 * bound of what the provider documents or what was measured, with the source beside it.
 *
 * @module
 */

/**
 * OpenAI chat framing, from the OpenAI cookbook "How to count tokens with tiktoken"
 * (`tokens_per_message = 3`, `tokens_per_name = 1`, every reply primed with
 * `<|start|>assistant<|message|>`), which holds from gpt-3.5-turbo-0613 on.
 *
 * @example
 * ```ts
 * import { OPENAI } from "./overheads.ts";
 *
 * // "hi" as one user message: 3 + tokens("user") + tokens("hi") + 3
 * if (OPENAI.message + 1 + 1 + OPENAI.reply !== 8) throw new Error("changed");
 * ```
 */
export const OPENAI = {
  /** Every reply is primed with 3 tokens. */
  reply: 3,
  /** Each message: `<|start|>{role}<|message|>…<|end|>` less the role's own tokens. */
  message: 3,
  /** A message with a `name` pays its tokens and one more. */
  name: 1,
  /**
   * Each text part after the first of a message: parts may be joined (with a separator of
   * at most one token), and BPE is not subadditive: `count(a + b)` exceeded
   * `count(a) + count(b)` by at most 1 (o200k) and 2 (cl100k) over 3,000 random splits.
   */
  part: 3,
  /** Each tool call in an assistant message, beside its id, name and arguments. */
  toolCall: 8,
  /**
   * Tool definitions: their JSON's tokens and this. OpenAI renders tools as a TypeScript
   * namespace, which measured 1.48–1.75 times fewer tokens than the JSON (gpt-tokenizer's
   * `formatFunctionDefinitions`), so the JSON bounds it with room to spare.
   */
  tools: 20,
  /** A `response_format` or `text.format` schema: its JSON's tokens and this. */
  schema: 10,
} as const;

/**
 * Anthropic Messages framing. Not documented: estimates with a margin (the byte bound on the
 * text leaves 3–4 times more room still). The tool-use system prompt is documented per model
 * (docs.anthropic.com, "Tool use: pricing": 159 to 530 tokens); 600 covers every model listed.
 *
 * @example
 * ```ts
 * import { ANTHROPIC } from "./overheads.ts";
 *
 * // "hi" as one user message: 2 bytes + 5 + 10
 * if (2 + ANTHROPIC.message + ANTHROPIC.request !== 17) throw new Error("changed");
 * ```
 */
export const ANTHROPIC = {
  /** Each request. */
  request: 10,
  /** Each message (the system prompt counts as one). */
  message: 5,
  /** Each content block of a message. */
  block: 2,
  /** The tool-use system prompt, when `tools` is set. */
  toolPrompt: 600,
  /**
   * Each Anthropic-defined client tool (`bash_*`, `text_editor_*`, `computer_*`,
   * `memory_*`): the docs give 245 (bash), 700 (text editor) and 735 + a 466–499 system
   * prompt (computer use).
   */
  clientTool: 1500,
  /** Each document block, beside its text: title, context and citation framing. */
  document: 50,
  /** A structured-output schema: its JSON's bytes and this. */
  schema: 20,
} as const;

/**
 * Gemini framing. `countTokens` of "The quick brown fox jumps over the lazy dog." is 10
 * (ai.google.dev/gemini-api/docs/tokens), the text's own Gemma count: the framing of one
 * turn is small, and these bounds leave room for it.
 *
 * @example
 * ```ts
 * import { GEMINI } from "./overheads.ts";
 *
 * // "hi" as one user turn of one part: 2 bytes + 1 + 5 + 3
 * if (2 + GEMINI.part + GEMINI.content + GEMINI.request !== 11) throw new Error("changed");
 * ```
 */
export const GEMINI = {
  /** Each request. */
  request: 3,
  /** Each `Content` (turn markers), the system instruction included. */
  content: 5,
  /** Each part: a SentencePiece segment may gain a leading `▁`. */
  part: 1,
  /** Function declarations: their JSON's bytes and this. */
  tools: 20,
  /** A response schema: its JSON's bytes and this. */
  schema: 20,
} as const;
