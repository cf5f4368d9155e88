/**
 * A loopback mock upstream that records every request it receives and answers like the
 * providers do: OpenAI-style chat completions (JSON and SSE), spaced SSE streams, endless
 * streams that note when they are cancelled, redirects, slow answers and echoed keys.
 *
 * @module
 */

import { serveLoopback } from "./serve.ts";

/** One request as the mock received it. */
export interface Recorded {
  method: string;
  /** Path and query as received. */
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A running mock upstream. */
export interface MockUpstream {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Host and port, e.g. `127.0.0.1:41234`. */
  host: string;
  /** Every request received, in order. */
  requests: Recorded[];
  /** Resolves with the time (performance.now()) an endless stream was cancelled. */
  cancelled: Promise<number>;
  /** Stops the server. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

function sse(events: string[], spacingMs: number, onCancel?: () => void): ReadableStream {
  let i = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(controller) {
      const send = () => {
        if (i < events.length) {
          try {
            controller.enqueue(encoder.encode(`data: ${events[i++]}\n\n`));
          } catch {
            return; // the server dropped the stream without cancelling it (a reset peer)
          }
          timer = setTimeout(send, spacingMs);
        } else {
          controller.close();
        }
      };
      send();
    },
    cancel() {
      clearTimeout(timer);
      onCancel?.();
    },
  });
}

function chatChunk(content: string, usage?: Record<string, number>) {
  return JSON.stringify({
    id: "chatcmpl-mock",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o-mini",
    choices: usage ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
    ...(usage ? { usage } : {}),
  });
}

/** Starts the mock on 127.0.0.1 with a free port. */
export function startMockUpstream(): Promise<MockUpstream> {
  const requests: Recorded[] = [];
  const cancelled = Promise.withResolvers<number>();
  const server = serveLoopback(async (request) => {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    requests.push({
      method: request.method,
      url: url.pathname + url.search,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
      body,
    });
    const path = url.pathname;
    if (path.endsWith("/chat/completions")) {
      const parsed = body ? JSON.parse(body) : {};
      if (parsed.stream) {
        const words = ["Hello", " from", " the", " mock", "."];
        const events = [
          ...words.map((w) => chatChunk(w)),
          chatChunk("", { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 }),
          "[DONE]",
        ];
        const spacing = Number(url.searchParams.get("spacing") ?? "0");
        return new Response(sse(events, spacing), {
          headers: { "content-type": "text/event-stream" },
        });
      }
      return Response.json({
        id: "chatcmpl-mock",
        object: "chat.completion",
        created: 1,
        model: parsed.model ?? "gpt-4o-mini",
        choices: [{
          index: 0,
          message: { role: "assistant", content: "Hello from the mock." },
          finish_reason: "stop",
        }],
        usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
      }, { headers: { "set-cookie": "upstream=1", "x-upstream": "mock" } });
    }
    if (path.endsWith("/spaced")) {
      const events = Array.from({ length: 5 }, (_, i) => JSON.stringify({ i }));
      return new Response(sse(events, 200), { headers: { "content-type": "text/event-stream" } });
    }
    if (path.endsWith("/endless")) {
      const events = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ i }));
      return new Response(
        sse(events, 20, () => cancelled.resolve(performance.now())),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    if (path.endsWith("/redirect")) {
      return new Response(null, { status: 302, headers: { location: "https://example.com/x" } });
    }
    if (path.endsWith("/slow")) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return Response.json({ slow: true });
    }
    if (path.endsWith("/echo-key")) {
      const auth = request.headers.get("authorization") ?? url.searchParams.get("key") ?? "";
      return Response.json({ error: { message: `Incorrect API key provided: ${auth}` } }, {
        status: 401,
      });
    }
    const status = /\/status\/(\d{3})$/.exec(path);
    if (status) {
      return Response.json({ error: { message: "upstream says no" } }, {
        status: Number(status[1]),
      });
    }
    return Response.json({ ok: true, path, method: request.method });
  });
  return server.then(({ url, host, close }) => ({
    url,
    host,
    requests,
    cancelled: cancelled.promise,
    close,
  }));
}
