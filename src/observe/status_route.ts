/**
 * `server.status`: the status page, HTML to a browser (its `Accept` names `text/html`) and
 * JSON otherwise. The browser guard runs before it like before any path: a tab may open it
 * from anywhere, pages on listed origins may read it, other pages are refused. Each client's
 * usage is shown only to a request bearing the admin token (`Authorization: Bearer`), which
 * no other page can make a browser attach. Never cached, never framed.
 *
 * @module
 */
import { compileStatus, type StatusOptions } from "./status.ts";
import { renderStatusPage, STATUS_CSP } from "./status_page.ts";
import type { RouteStats } from "./route_stats.ts";

/** The status page's handler and the counter that feeds its charts. */
export interface StatusHandler {
  /** Counts finished requests for the charts. */
  stats: RouteStats;
  /** Answers a request for the page. */
  handle(request: Request): Promise<Response>;
}

const COMMON = {
  "cache-control": "no-store",
  "vary": "Accept, Authorization",
  "x-content-type-options": "nosniff",
};

/**
 * Compiles the status page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { MemoryStore } from "../store/memory.ts";
 * import { statusHandler } from "./status_route.ts";
 *
 * const route = {
 *   name: "openai",
 *   path: "/openai",
 *   config: {},
 *   upstream: new URL("https://api.openai.com"),
 *   allowList: ["POST /v1/chat/completions"],
 * };
 * const status = statusHandler({ routes: [route], clients: [], store: new MemoryStore() });
 * const app = new Hono();
 * app.get("/keyward/status", (c) => status.handle(c.req.raw));
 *
 * const answer = await app.request("/keyward/status"); // JSON; HTML when Accept asks for it
 * assert.equal((await answer.json()).routes[0].route, "openai");
 * ```
 */
export function statusHandler(options: StatusOptions): StatusHandler {
  const source = compileStatus(options);
  return {
    stats: source.stats,
    async handle(request) {
      const report = await source.report(source.isAdmin(request));
      if (request.headers.get("accept")?.includes("text/html")) {
        return new Response(renderStatusPage(report), {
          headers: {
            ...COMMON,
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": STATUS_CSP,
            "x-frame-options": "DENY",
          },
        });
      }
      return new Response(JSON.stringify(report), {
        headers: { ...COMMON, "content-type": "application/json" },
      });
    },
  };
}
