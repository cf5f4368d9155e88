import assert from "node:assert/strict";
import { createFalClient } from "@fal-ai/client";
import { createGateway } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { loadInferenceSdk } from "./helpers/inference_sdk.ts";
import { serveLoopback } from "./helpers/serve.ts";

Deno.env.set("KW_SDK_FAL_KEY", "fal-server-SECRET");

/**
 * The upstream transport for SDKs that only speak to their provider's https hosts: the
 * gateway's request leaves over a real socket, to the loopback mock instead of the provider.
 */
function providerToMock(mock: MockUpstream, seen: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    seen.push(url.origin);
    return fetch(new URL(url.pathname + url.search, mock.url), init);
  };
}

async function serveGateway(yaml: string, upstreamFetch: typeof fetch) {
  const gateway = await createGateway(yaml, undefined, { upstreamFetch, log: () => {} });
  return await serveLoopback(gateway.fetch);
}

Deno.test("@fal-ai/client with proxyUrl runs a model through the fal preset, and nothing else", async () => {
  const mock = await startMockUpstream();
  const seen: string[] = [];
  const gw = await serveGateway(
    `
routes:
  - name: fal
    path: /api/fal/proxy
    preset: fal
    key: { env: KW_SDK_FAL_KEY }
`,
    providerToMock(mock, seen),
  );
  try {
    const fal = createFalClient({
      // "always": the client runs in Deno here, where it would not proxy by default
      proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: "always" },
    });
    const result = await fal.run("fal-ai/fast-sdxl", { input: { prompt: "a lighthouse" } });
    assert.deepEqual(result.data, { ok: true, path: "/fal-ai/fast-sdxl", method: "POST" });
    assert.deepEqual(seen, ["https://fal.run"]);
    assert.equal(mock.requests.length, 1);
    const received = mock.requests[0];
    assert.equal(received.headers.authorization, "Key fal-server-SECRET");
    assert.equal(received.headers["x-fal-target-url"], undefined, "the target header stays behind");
    assert.deepEqual(JSON.parse(received.body), { prompt: "a lighthouse" });

    await assert.rejects(
      () => fal.run("https://rest.alpha.fal.ai/storage/upload", { input: { file: "x" } }),
      (error: { status?: number }) => error.status === 403,
    );
    assert.equal(seen.length, 1, "no request left for a host the preset does not list");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.env.set("KW_SDK_INF_KEY", "inf-server-SECRET");

Deno.test("@inferencesh/sdk with proxyUrl reaches inference.sh through the preset", async () => {
  const { Inference } = await loadInferenceSdk();
  const mock = await startMockUpstream();
  const seen: string[] = [];
  const gw = await serveGateway(
    `
routes:
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
    key: { env: KW_SDK_INF_KEY }
`,
    providerToMock(mock, seen),
  );
  try {
    const client = new Inference({ proxyUrl: `${gw.url}/api/inference/proxy` });
    // inference.sh ids are lowercase ULIDs; the preset takes no other shape.
    const id = "01j9z3m8k2c9v7b4n6q5r0t1wx";
    const task = await client.tasks.get(id);
    assert.deepEqual(task.data, { ok: true, path: `/tasks/${id}`, method: "GET" });
    assert.deepEqual(seen, ["https://api.inference.sh"]);
    const received = mock.requests[0];
    assert.equal(received.headers.authorization, "Bearer inf-server-SECRET");
    assert.equal(received.headers["x-inf-target-url"], undefined);

    await assert.rejects(() => client.apiKeys.list(), /403|not allowed/i);
    assert.equal(mock.requests.length, 1, "key management never reaches the upstream");
  } finally {
    await gw.close();
    await mock.close();
  }
});
