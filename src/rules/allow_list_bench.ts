/**
 * Hot-path cost of the allow list: one check against the OpenAI and inference.sh presets.
 *
 * @module
 */
import { inferenceSh } from "../config/presets/inference_sh.ts";
import { openai } from "../config/presets/openai.ts";
import { compileAllow } from "./allow_list.ts";

const allowed = compileAllow(openai.allow);

Deno.bench("allow: a permitted path", () => {
  allowed("POST", "/v1/chat/completions");
});

Deno.bench("allow: a denied path", () => {
  allowed("GET", "/v1/organization/api_keys");
});

const inference = compileAllow(inferenceSh.allow);

Deno.bench("allow: an inference.sh id route", () => {
  inference("GET", "/tasks/01j9z3m8k2c9v7b4n6q5r0t1wx/stream");
});

Deno.bench("allow: an inference.sh literal sibling, denied", () => {
  inference("GET", "/tasks/stream");
});
