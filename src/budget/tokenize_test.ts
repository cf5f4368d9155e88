import assert from "node:assert/strict";
import { counterFor, encodingFor, loadEncoding, prepareTokenizer } from "./tokenize.ts";

Deno.test("encodingFor: o200k for the current models, cl100k for the older ones", () => {
  for (
    const model of [
      "gpt-4o",
      "gpt-4o-mini-2024-07-18",
      "gpt-4.1-nano",
      "gpt-4.5-preview",
      "gpt-5",
      "gpt-5.2-pro",
      "o1",
      "o3-mini",
      "o4-mini",
      "chatgpt-4o-latest",
      "gpt-image-1",
      "ft:gpt-4.1-mini-2025-04-14:org::x",
    ]
  ) {
    assert.equal(encodingFor(model), "o200k_base", model);
  }
  for (
    const model of [
      "gpt-4",
      "gpt-4-0613",
      "gpt-4-turbo",
      "gpt-3.5-turbo",
      "gpt-3.5-turbo-instruct",
      "text-embedding-3-large",
      "text-embedding-ada-002",
      "davinci-002",
    ]
  ) {
    assert.equal(encodingFor(model), "cl100k_base", model);
  }
  for (
    const model of [undefined, "", "claude-sonnet-4-5", "gpt-4.7-new", "o", "omega", "my-finetune"]
  ) {
    assert.equal(encodingFor(model), undefined, String(model));
  }
});

Deno.test("prepareTokenizer: loads what a route needs, once, and nothing for other formats", async () => {
  await prepareTokenizer("gemini", ["gpt-4o"]);
  await prepareTokenizer("openai", ["gpt-4o", "gpt-4.1"]);
  const count = counterFor("o200k_base");
  assert.ok(count);
  assert.equal(count("Hello, world!"), 4);
  assert.equal(await loadEncoding("o200k_base"), count); // the same counter, not a second load
});

Deno.test("the counters count special-token text as text, as the APIs do", async () => {
  const o200k = (await loadEncoding("o200k_base"))!;
  assert.equal(o200k("<|endoftext|>"), 7);
  assert.equal(o200k("<|im_start|>user"), o200k("<|im_start|>") + 1);
});
