/**
 * The message text of a chat request, whatever API shape it has: OpenAI chat `messages` and
 * Responses `input`/`instructions`, Anthropic `system` and content blocks, Gemini `contents`
 * and `systemInstruction` parts, legacy `prompt`. Images, audio and file data are skipped.
 *
 * @module
 */

/** Keys whose values are (or hold) text a model reads. */
export const TEXT_KEYS: ReadonlySet<string> = new Set([
  "messages",
  "content",
  "text",
  "prompt",
  "input",
  "system",
  "instructions",
  "contents",
  "parts",
  "systemInstruction",
  "system_instruction",
]);

function collect(value: unknown, textual: boolean, out: string[]): void {
  if (typeof value === "string") {
    if (textual) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, textual, out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) collect(item, TEXT_KEYS.has(key), out);
  }
}

/**
 * Returns every piece of message text in a request body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageText } from "./message_text.ts";
 *
 * const body = { model: "m", messages: [{ role: "user", content: "Hello" }] };
 * assert.deepEqual(messageText(body), ["Hello"]);
 * ```
 */
export function messageText(body: unknown): string[] {
  const out: string[] = [];
  collect(body, false, out);
  return out;
}
