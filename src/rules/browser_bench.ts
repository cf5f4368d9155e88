/**
 * Hot-path cost of the browser guard alone, on real `Request`s with the headers an SDK sends:
 * from a program (no `Origin`, no `Sec-Fetch-*`), a same-origin page and a listed origin.
 *
 * @module
 */
import { Exchange } from "../exchange.ts";
import { browserGuard } from "./browser.ts";

const guard = browserGuard({ cors: { origins: ["http://localhost:3000"] }, pages: ["/healthz"] });
const URL = "http://127.0.0.1:8080/openai/v1/chat/completions";
const sdk = {
  "content-type": "application/json",
  authorization: "Bearer t",
  "user-agent": "OpenAI/JS 7.57.0",
  accept: "application/json",
  "x-stainless-lang": "js",
  "x-stainless-os": "Linux",
};

/** One request's exchange, as the gateway makes it. */
function context(headers: Record<string, string>): Exchange {
  const request = new Request(URL, { method: "POST", headers });
  return new Exchange(request, undefined, "id", "", "/openai/v1/chat/completions", () => {});
}
const program = context(sdk);
const sameOrigin = context({
  ...sdk,
  "sec-fetch-site": "same-origin",
  origin: "http://127.0.0.1:8080",
});
const listed = context({ ...sdk, "sec-fetch-site": "cross-site", origin: "http://localhost:3000" });

Deno.bench("browser guard: a program's request", { baseline: true }, () => {
  guard(program);
});
Deno.bench("browser guard: a same-origin page", () => {
  guard(sameOrigin);
});
Deno.bench("browser guard: a listed origin", () => {
  guard(listed);
});
