/**
 * The browser guard. Any web page can make its visitor's browser send requests to any
 * address, and the gateway adds a key to what it forwards: so a request that a browser sends
 * for a page the owner did not list must be refused (403 JSON) before anything leaves. The
 * browser says who asked, in headers no page can set: `Origin`, and the Fetch Metadata
 * headers `Sec-Fetch-Site`, `Sec-Fetch-Mode` and `Sec-Fetch-Dest`.
 *
 * What is served:
 * - requests with neither `Origin` nor `Sec-Fetch-Site`: programs (SDKs on a server, curl;
 *   Node's `fetch` sends `Sec-Fetch-Mode: cors` but no site) and browsers too old to send
 *   Fetch Metadata, on a same-origin or no-cors GET;
 * - `Sec-Fetch-Site: same-origin`: the gateway's own origin (an app that mounts it), any kind;
 * - an `Origin` listed in `server.cors.origins` (or, without `Sec-Fetch-Site`, the gateway's
 *   own origin), with the CORS headers it needs to read every answer; preflights are answered
 *   here and never reach an upstream;
 * - a tab opening one of the gateway's own pages (`/healthz`, the status and metrics paths):
 *   a GET or HEAD navigation of a whole document, typed or linked from anywhere;
 * - everything, when `server.cors.origins` holds `"*"`: the owner lets any page call.
 *
 * What is refused:
 * - an `Origin` that is neither listed nor the gateway's own: a `fetch` from another page
 *   (a `text/plain` POST needs no preflight), a `no-cors` POST, `sendBeacon`, a form post in
 *   any encoding; a sibling subdomain or another port is another origin, so it is refused too
 *   unless listed;
 * - a request from another origin that names none (`Sec-Fetch-Site` `cross-site` or
 *   `same-site` without `Origin`): `<img>`, `<script>`, stylesheets, prefetch, `<iframe>`,
 *   a `no-cors` GET, a followed link. It cannot be told apart from the same request made by
 *   any other page, so it is refused even when a listed origin's page made it: those pages
 *   call with `fetch`, which sends `Origin`;
 * - `Sec-Fetch-Site: none` (a typed URL, a bookmark, a link opened from a mail or chat app)
 *   on anything but the gateway's own pages. Such a link may be someone else's, and it would
 *   spend with the visitor's cookies and address; and an upstream's answer opened as a page
 *   would run on the gateway's origin, where its scripts could call every route.
 *
 * Cost: a request from a program reads two headers and passes on.
 *
 * @module
 */
import type { CorsConfig } from "../config/types.ts";
import type { Exchange } from "../exchange.ts";
import { compileCors } from "./cors.ts";

/** What the browser guard needs to know. */
export interface BrowserOptions {
  /** `server.cors`: the origins whose pages may call, and how they read the answers. */
  cors?: CorsConfig;
  /** The gateway's own pages (`/healthz`, status, metrics), which a tab may open. */
  pages?: readonly string[];
}

/** The browser guard: the refusal or preflight answer for a request, or undefined to go on. */
export type BrowserGuard = (x: Exchange) => Response | undefined;

const SLASH = 47;

/**
 * Compiles the browser guard; it runs before routing, for every request. A request it lets
 * through from a listed origin has the CORS headers that origin needs added to `x.headers`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { browserGuard } from "./browser.ts";
 *
 * const cors = { origins: ["http://localhost:3000"] };
 * const guard = browserGuard({ cors, pages: ["/healthz"] });
 *
 * const path = "/openai/v1/chat/completions";
 * const fromPage = (origin: string) => {
 *   const headers = { origin, "sec-fetch-site": "cross-site" };
 *   const request = new Request(`http://gateway${path}`, { method: "POST", headers });
 *   return guard(new Exchange(request, undefined, "req-1", "", path, () => {}));
 * };
 * assert.equal(fromPage("http://localhost:3000"), undefined); // listed: it goes on
 * assert.equal(fromPage("https://evil.example")?.status, 403);
 * ```
 */
export function browserGuard(options: BrowserOptions = {}): BrowserGuard {
  const cors = options.cors ? compileCors(options.cors) : undefined;
  const any = cors?.any === true;
  const pages = new Set(options.pages ?? []);

  return (x) => {
    const request = x.request;
    const headers = request.headers;
    const site = headers.get("sec-fetch-site");
    if (site === "same-origin") return undefined;
    const origin = headers.get("origin");
    if (origin === null) {
      if (site === null || any) return undefined;
      const method = request.method;
      if (
        (method === "GET" || method === "HEAD") && pages.has(x.path) &&
        headers.get("sec-fetch-mode") === "navigate" && headers.get("sec-fetch-dest") === "document"
      ) return undefined;
      return x.refuse(
        "browser_no_origin",
        site === "none"
          ? "A browser tab cannot open this address: call it from a page's script or a program"
          : "A request from another origin must name it: call with fetch from an allowed origin",
        undefined,
        undefined,
        site,
      );
    }
    if (site === null && sameOrigin(request.url, origin)) return undefined;
    if (cors === undefined || !cors.allows(origin)) {
      return x.refuse("origin_not_allowed", `Origin ${origin} is not allowed`);
    }
    if (request.method === "OPTIONS" && headers.has("access-control-request-method")) {
      return cors.preflight(request, origin);
    }
    cors.decorate(x.headers, origin);
    return undefined;
  };
}

/** Whether `url` (a request's, serialised) is on `origin` (an `Origin` header's value). */
function sameOrigin(url: string, origin: string): boolean {
  return url.startsWith(origin) && url.charCodeAt(origin.length) === SLASH;
}
