import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { serveLoopback } from "./helpers/serve.ts";
import { watchedCount } from "../src/proxy/watchdog.ts";

const encoder = new TextEncoder();

/** An upstream with a stream that goes quiet, a slow trickle, a hang and a small JSON body. */
async function startUpstream() {
  const quietCancelled = Promise.withResolvers<void>();
  const hangAborted = Promise.withResolvers<number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server = await serveLoopback(async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/quiet") {
      // one event, then silence with the connection open
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(encoder.encode('data: {"i":0}\n\n'));
          },
          cancel() {
            quietCancelled.resolve();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    if (path === "/trickle") {
      // five events 150 ms apart: longer in all than the timeout, never silent that long
      let i = 0;
      return new Response(
        new ReadableStream({
          start(controller) {
            const send = () => {
              if (i === 5) return controller.close();
              controller.enqueue(encoder.encode(`data: {"i":${i++}}\n\n`));
              const timer = setTimeout(() => {
                timers.delete(timer);
                send();
              }, 150);
              timers.add(timer);
            };
            send();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    if (path === "/hang") {
      // never answers; notes when the gateway gives up on it
      await new Promise<void>((resolve) => {
        request.signal.addEventListener("abort", () => {
          hangAborted.resolve(performance.now());
          resolve();
        });
      });
      return new Response(null, { status: 499 });
    }
    return Response.json({ ok: true, padding: "x".repeat(1000) });
  });
  return {
    ...server,
    quietCancelled: quietCancelled.promise,
    hangAborted: hangAborted.promise,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await server.close();
    },
  };
}

const CONFIG = (upstream: string, timeout: string) => `
routes:
  - name: up
    path: /up
    upstream: ${upstream}
    allow: ["GET /**"]
    limits: { timeout: ${timeout} }
`;

async function settle(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("a stream that goes silent past the timeout is cut, and the upstream cancelled", async () => {
  const upstream = await startUpstream();
  const gw = await startGateway(CONFIG(upstream.url, "300ms"));
  try {
    const response = await fetch(`${gw.url}/up/quiet`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /"i":0/);
    const startedWaiting = performance.now();
    await assert.rejects(async () => {
      while (!(await reader.read()).done);
    });
    const waited = performance.now() - startedWaiting;
    assert.ok(waited < 2000, `cut after ${waited} ms of silence`);
    await upstream.quietCancelled;
    await settle(() => gw.logs.length === 1);
    assert.equal(gw.logs[0].error, "upstream_silent");
    assert.equal(gw.logs[0].aborted, true);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a stream that keeps sending runs on past the timeout", async () => {
  const upstream = await startUpstream();
  const gw = await startGateway(CONFIG(upstream.url, "300ms"));
  try {
    const started = performance.now();
    const text = await (await fetch(`${gw.url}/up/trickle`)).text();
    assert.ok(performance.now() - started >= 600, "the stream ran longer than the timeout");
    assert.equal(text.match(/^data: /gm)?.length, 5);
    await settle(() => gw.logs.length === 1);
    assert.equal(gw.logs[0].error, undefined);
    assert.equal(gw.logs[0].bytes_out, encoder.encode(text).byteLength);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a client that hangs up before the upstream answers cancels the upstream request", async () => {
  const upstream = await startUpstream();
  const gw = await startGateway(CONFIG(upstream.url, "60s"));
  try {
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/up/hang`, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const hungUp = performance.now();
    controller.abort();
    await assert.rejects(pending);
    const abortedAt = await Promise.race([
      upstream.hangAborted,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error("the upstream request was not cancelled")), 3000)
      ),
    ]);
    assert.ok(abortedAt - hungUp < 2000, `upstream cancelled after ${abortedAt - hungUp} ms`);
    await settle(() => gw.logs.length === 1);
    assert.equal(gw.logs[0].aborted, true);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a small JSON body is logged with its bytes once delivered, and no timer is left", async () => {
  const upstream = await startUpstream();
  const gw = await startGateway(CONFIG(upstream.url, "5s"));
  try {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gw.url}/up/small`);
      const bytes = (await response.arrayBuffer()).byteLength;
      assert.equal(response.status, 200);
      await settle(() => gw.logs.length === i + 1);
      assert.equal(gw.logs[i].bytes_out, bytes);
      assert.equal(gw.logs[i].aborted, undefined);
    }
    assert.equal(watchedCount(), 0);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
