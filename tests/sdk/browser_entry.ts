/**
 * Entry for a browser bundle (`deno bundle --platform=browser`) of the SDKs browser apps call
 * keyward with: the pages of the browser tests and the demo import it as one ES module.
 *
 * @module
 */
export { default as OpenAI } from "openai";
export { inference } from "@inferencesh/sdk";
export { createFalClient } from "@fal-ai/client";
