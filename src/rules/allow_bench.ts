/**
 * Hot-path cost of the allow list: one check against the OpenAI preset's list.
 *
 * @module
 */
import { openai } from "../config/presets/openai.ts";
import { compileAllow } from "./allow.ts";

const allowed = compileAllow(openai.allow);

Deno.bench("allow: a permitted path", () => {
  allowed("POST", "/v1/chat/completions");
});

Deno.bench("allow: a denied path", () => {
  allowed("GET", "/v1/organization/api_keys");
});
