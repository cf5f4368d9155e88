/**
 * The runtime's own limit, as a bench row: `Deno.serve` + `fetch` passing `/openai/...` to
 * the mock with a key injected, and nothing else (no checks, no log, no timeouts). keyward's
 * cost is the gap between this row and its own. Run as `deno run --allow-net bare_proxy.ts
 * PORT UPSTREAM`; {@linkcode startBareProxy} does that.
 *
 * @module
 */
import { startListening } from "./spawn.ts";

/** A running bare proxy. */
export interface BareProxy {
  /** Base URL (the `/openai` prefix included). */
  url: string;
  /** Process id. */
  pid: number;
  /** Stops it. */
  stop(): Promise<void>;
}

/** Starts the bare proxy on `port`, in front of `upstream`. */
export async function startBareProxy(port: number, upstream: string): Promise<BareProxy> {
  const proxy = await startListening("the bare proxy", Deno.execPath(), [
    "run",
    "--allow-net",
    new URL(import.meta.url).pathname,
    String(port),
    upstream,
  ], port);
  return { url: `http://127.0.0.1:${port}/openai`, pid: proxy.pid, stop: proxy.stop };
}

if (import.meta.main) {
  const [port, upstream] = Deno.args;
  Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen() {} }, (request) => {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("authorization", "Bearer sk-bench-key");
    return fetch(upstream + url.pathname.slice("/openai".length) + url.search, {
      method: request.method,
      headers,
      body: request.body,
    });
  });
}
