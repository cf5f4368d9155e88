/**
 * Entry for a browser bundle of the `openai` SDK alone (`deno bundle --platform=browser`),
 * for pages that need nothing else.
 *
 * @module
 */
export { default as OpenAI } from "openai";
