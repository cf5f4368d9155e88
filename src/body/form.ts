/**
 * Multipart uploads on a route with `models`: the form is read as the platform's `FormData`
 * reads it, for its one `model` field, and goes on byte for byte.
 *
 * @module
 */
import type { BodyRefusal, BodyRules } from "./rules.ts";

/**
 * Checks the model a multipart form names (as OpenAI's uploads do, in a `model` field): it
 * must name exactly one, as a plain field; a form that cannot be read is refused. The bytes
 * go on as they came.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkForm } from "./form.ts";
 * import { compileBodyRules } from "./rules.ts";
 *
 * const rules = compileBodyRules({ models: ["whisper-1"] }, "openai", false)!;
 * const form = new FormData();
 * form.set("model", "gpt-4o");
 * form.set("file", new Blob(["..."]), "speech.wav");
 * const upload = new Request("http://gateway/x", { method: "POST", body: form });
 * const bytes = new Uint8Array(await upload.arrayBuffer());
 * const type = upload.headers.get("content-type")!; // multipart/form-data; boundary=...
 * const verdict = await checkForm(bytes, type, rules, "/v1/audio/transcriptions");
 * assert.deepEqual(verdict, {
 *   type: "forbidden",
 *   message: "Model gpt-4o is not allowed on this route",
 * });
 * ```
 */
export async function checkForm(
  raw: Uint8Array<ArrayBuffer>,
  type: string,
  rules: BodyRules,
  path: string,
): Promise<BodyRefusal | { body: Uint8Array<ArrayBuffer> }> {
  let models: FormDataEntryValue[];
  try {
    const form = await new Response(raw, { headers: { "content-type": type } }).formData();
    models = form.getAll("model");
  } catch {
    return { type: "invalid_request", message: "The form body could not be read" };
  }
  const model = models.length === 1 && typeof models[0] === "string" ? models[0] : undefined;
  if (models.length > 1) {
    return { type: "invalid_request", message: "The form names its model more than once" };
  }
  return rules.checkModel(model, path) ?? { body: raw };
}
