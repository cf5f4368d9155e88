/**
 * A second mock upstream for the workloads nginx cannot play: SSE events stamped with the time
 * they were sent, an upload sink, a large download and streams that stay open. It runs inside
 * the bench process, so the stamps and the client's clock are the same clock.
 *
 * @module
 */

const encoder = new TextEncoder();
/** Download chunk: 64 KiB of zeros. */
const CHUNK = new Uint8Array(64 * 1024);

/** A running Deno mock. */
export interface DenoMock {
  /** Base URL. */
  url: string;
  /** Stops it (open streams are cut). */
  close(): Promise<void>;
}

function timedEvents(count: number, spacingMs: number): ReadableStream<Uint8Array> {
  let sent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(controller) {
      const send = () => {
        if (sent === count) return controller.close();
        sent++;
        controller.enqueue(encoder.encode(`data: {"t":${performance.now()}}\n\n`));
        timer = setTimeout(send, spacingMs);
      };
      send();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

function zeros(bytes: number): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

function held(open: Set<ReadableStreamDefaultController>): ReadableStream<Uint8Array> {
  let self: ReadableStreamDefaultController | undefined;
  return new ReadableStream({
    start(controller) {
      self = controller;
      open.add(controller);
      controller.enqueue(encoder.encode('data: {"open":true}\n\n'));
    },
    cancel() {
      if (self) open.delete(self);
    },
  });
}

/**
 * Starts the mock on a free loopback port:
 * - `GET /timed?events=N&spacing=MS`: N SSE events `{"t": <send time>}`, MS apart
 * - `POST /upload`: reads the body, answers `{"bytes": n}`
 * - `GET /download?bytes=N`: N zero bytes, chunked
 * - `GET /hold`: an SSE stream that sends one event and stays open
 */
export async function startDenoMock(): Promise<DenoMock> {
  const open = new Set<ReadableStreamDefaultController>();
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => ready.resolve(addr),
    onError: () => new Response(null, { status: 500 }),
  }, async (request) => {
    const url = new URL(request.url);
    const sse = { "content-type": "text/event-stream" };
    switch (url.pathname) {
      case "/timed": {
        const events = Number(url.searchParams.get("events") ?? 20);
        const spacing = Number(url.searchParams.get("spacing") ?? 50);
        return new Response(timedEvents(events, spacing), { headers: sse });
      }
      case "/upload": {
        let bytes = 0;
        for await (const chunk of request.body ?? []) bytes += chunk.byteLength;
        return Response.json({ bytes });
      }
      case "/download":
        return new Response(zeros(Number(url.searchParams.get("bytes") ?? 0)));
      case "/hold":
        return new Response(held(open), { headers: sse });
    }
    return new Response("not found", { status: 404 });
  });
  const { port } = await ready.promise;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const controller of open) {
        try {
          controller.close();
        } catch {
          // already closed
        }
      }
      await server.shutdown();
    },
  };
}
