/**
 * The bench's second mock upstream, for what a canned nginx answer cannot show: SSE events
 * stamped with the time they were sent, events spaced out over a long-lived stream, and
 * large bodies in both directions. Run as its own process: `deno run --allow-net
 * lab_upstream.ts PORT`.
 *
 * @module
 */

const encoder = new TextEncoder();
const CHUNK = new Uint8Array(64 * 1024);

/** Milliseconds since the epoch, with sub-millisecond precision, comparable across processes. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `n` SSE events, `gap` ms apart, each carrying the time it was sent; with no gap, all at
 * once, each its own chunk of the chunked response (a provider's stream, as fast as the
 * upstream can go).
 */
function events(n: number, gap: number): ReadableStream<Uint8Array> {
  if (gap === 0) {
    return new ReadableStream({
      start(controller) {
        for (let i = 0; i < n; i++) {
          controller.enqueue(encoder.encode(`data: {"i":${i},"t":${now()}}\n\n`));
        }
        controller.close();
      },
    });
  }
  let i = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(controller) {
      const send = () => {
        try {
          if (i === n) return controller.close();
          controller.enqueue(encoder.encode(`data: {"i":${i++},"t":${now()}}\n\n`));
        } catch {
          return; // the client went away and the runtime closed the stream
        }
        timer = setTimeout(send, gap);
      };
      send();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

/** `bytes` of zeros in 64 KiB chunks, produced as they are read. */
function source(bytes: number): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const size = Math.min(left, CHUNK.byteLength);
      left -= size;
      controller.enqueue(size === CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, size));
    },
  }, { highWaterMark: 0 });
}

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const number = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  if (url.pathname.endsWith("/events")) {
    return new Response(events(number("n", 20), number("gap", 10)), {
      headers: { "content-type": "text/event-stream" },
    });
  }
  if (url.pathname.endsWith("/source")) {
    return new Response(source(number("mb", 256) * 1024 * 1024), {
      headers: { "content-type": "application/octet-stream" },
    });
  }
  if (url.pathname.endsWith("/sink")) {
    let bytes = 0;
    for await (const chunk of request.body ?? []) bytes += chunk.byteLength;
    return Response.json({ bytes });
  }
  return new Response("not found", { status: 404 });
}

if (import.meta.main) {
  Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} }, handle);
}
