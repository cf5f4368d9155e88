/**
 * The SDKs the demo page uses, bundled for the browser when the demo starts.
 *
 * @module
 */
export { default as OpenAI } from "openai";
export { inference } from "@inferencesh/sdk";
