import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { startGatewayProcess } from "./helpers/process.ts";

const CONFIG = (upstream: string) => `
routes:
  - name: stream
    path: /s
    upstream: ${upstream}
    key: { env: KEY }
    usage: openai
    allow: ["GET /spaced", "GET /endless", "POST /v1/chat/completions", "POST /echo"]
`;

async function arrivals(response: Response): Promise<{ at: number; text: string }[]> {
  const out: { at: number; text: string }[] = [];
  const start = performance.now();
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) {
    out.push({ at: performance.now() - start, text: decoder.decode(chunk) });
  }
  return out;
}

for (const mode of ["in-process", "subprocess"] as const) {
  Deno.test(`${mode}: SSE events reach the client as the upstream sends them`, async () => {
    const mock = await startMockUpstream();
    const gw = mode === "in-process"
      ? await startGateway(CONFIG(mock.url), { KEY: "k" })
      : await startGatewayProcess(CONFIG(mock.url), { KEY: "k" });
    try {
      const response = await fetch(`${gw.url}/s/spaced`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const chunks = await arrivals(response);
      const text = chunks.map((c) => c.text).join("");
      assert.equal(
        text.match(/^data: /gm)?.length,
        5,
        "every event arrives, the stream is not cut",
      );
      // The mock spaces events 200 ms apart: buffering would deliver them all at the end.
      const first = chunks.find((c) => c.text.includes('{"i":0}'))!;
      const last = chunks.find((c) => c.text.includes('{"i":4}'))!;
      assert.ok(last.at - first.at >= 600, `events spread over ${last.at - first.at} ms`);
      assert.ok(first.at < 400, `first event after ${first.at} ms`);
    } finally {
      if ("stop" in gw) await gw.stop();
      else await gw.close();
      await mock.close();
    }
  });

  Deno.test(`${mode}: a client hang-up cancels the upstream stream within a second`, async () => {
    const mock = await startMockUpstream();
    const gw = mode === "in-process"
      ? await startGateway(CONFIG(mock.url), { KEY: "k" })
      : await startGatewayProcess(CONFIG(mock.url), { KEY: "k" });
    try {
      const controller = new AbortController();
      const response = await fetch(`${gw.url}/s/endless`, { signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      await reader.read();
      const hungUp = performance.now();
      controller.abort();
      const cancelledAt = await Promise.race([
        mock.cancelled,
        new Promise<number>((_, reject) =>
          setTimeout(() => reject(new Error("not cancelled")), 3000)
        ),
      ]);
      assert.ok(cancelledAt - hungUp < 1000, `upstream cancelled after ${cancelledAt - hungUp} ms`);
    } finally {
      if ("stop" in gw) await gw.stop();
      else await gw.close();
      await mock.close();
    }
  });
}

Deno.test("a streamed request body arrives intact, and streamed usage reaches the log", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(CONFIG(mock.url), { KEY: "k" });
  try {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"model":"gpt-4o-mini",'));
        controller.enqueue(new TextEncoder().encode('"stream":true}'));
        controller.close();
      },
    });
    const response = await fetch(`${gw.url}/s/v1/chat/completions`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    const text = await response.text();
    assert.match(text, /data: \[DONE\]/);
    assert.equal(mock.requests[0].body, '{"model":"gpt-4o-mini","stream":true}');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(gw.logs[0].tokens, { input: 5, output: 5, total: 10 });
    assert.equal(gw.logs[0].bytes_out, new TextEncoder().encode(text).byteLength);
  } finally {
    await gw.close();
    await mock.close();
  }
});
