/**
 * Hot-path cost of the browser guard alone, on real `Request`s with the headers an SDK sends:
 * from a program (no `Origin`, no `Sec-Fetch-*`), a same-origin page and a listed origin.
 *
 * @module
 */
import type { Context } from "hono";
import type { GatewayEnv, RequestState } from "../context.ts";
import { browserRule } from "./browser.ts";

const rule = browserRule({ cors: { origins: ["http://localhost:3000"] }, pages: ["/healthz"] });
const URL = "http://127.0.0.1:8080/openai/v1/chat/completions";
const sdk = {
  "content-type": "application/json",
  authorization: "Bearer t",
  "user-agent": "OpenAI/JS 7.57.0",
  accept: "application/json",
  "x-stainless-lang": "js",
  "x-stainless-os": "Linux",
};

/** The little of a Hono context the rule reads, around one request. */
function context(headers: Record<string, string>): Context<GatewayEnv> {
  const request = new Request(URL, { method: "POST", headers });
  const state = { record: {}, headers: {} } as RequestState;
  return { req: { raw: request, path: "/openai/v1/chat/completions" }, get: () => state } as never;
}

const next = () => Promise.resolve();
const program = context(sdk);
const sameOrigin = context({
  ...sdk,
  "sec-fetch-site": "same-origin",
  origin: "http://127.0.0.1:8080",
});
const listed = context({ ...sdk, "sec-fetch-site": "cross-site", origin: "http://localhost:3000" });

Deno.bench("browser guard: a program's request", { baseline: true }, async () => {
  await rule(program, next);
});
Deno.bench("browser guard: a same-origin page", async () => {
  await rule(sameOrigin, next);
});
Deno.bench("browser guard: a listed origin", async () => {
  await rule(listed, next);
});
