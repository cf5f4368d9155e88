import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("metrics change as requests are made, streams included", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(
    `
server:
  metrics: /metrics
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
`,
    { OPENAI_API_KEY: "sk-server-SECRET" },
  );
  const scrape = async () => {
    const response = await fetch(`${gw.url}/metrics`);
    assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    return await response.text();
  };
  const chat = (stream: boolean, spacing = 0) =>
    fetch(`${gw.url}/openai/v1/chat/completions?spacing=${spacing}`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [], stream }),
    });
  try {
    const before = await scrape();
    assert.equal(sample(before, 'keyward_requests_total{route="openai",status="200"}'), undefined);
    assert.equal(sample(before, "keyward_active_streams"), 0);

    await (await chat(false)).text();
    const denied = await fetch(`${gw.url}/openai/v1/files`);
    await denied.body?.cancel();

    const streaming = await chat(true, 100);
    const reader = streaming.body!.getReader();
    await reader.read();
    assert.equal(sample(await scrape(), "keyward_active_streams"), 1, "one stream in flight");
    while (!(await reader.read()).done) { /* drain */ }
    await new Promise((resolve) => setTimeout(resolve, 20));

    const after = await scrape();
    assert.equal(sample(after, "keyward_active_streams"), 0);
    assert.equal(sample(after, 'keyward_requests_total{route="openai",status="200"}'), 2);
    assert.equal(sample(after, 'keyward_requests_total{route="openai",status="403"}'), 1);
    assert.equal(sample(after, 'keyward_request_duration_seconds_count{route="openai"}'), 3);
    assert.equal(sample(after, 'keyward_upstream_ttfb_seconds_count{route="openai"}'), 2);
    assert.equal(
      sample(after, 'keyward_upstream_ttfb_seconds_bucket{route="openai",le="+Inf"}'),
      2,
    );
    const client = gw.logs.find((l) => l.tokens)?.client ?? "";
    assert.equal(
      sample(after, `keyward_tokens_total{route="openai",client="${client}",kind="input"}`),
      10,
      "5 prompt tokens from the JSON answer and 5 from the stream",
    );
    assert.equal(after.includes("sk-server-SECRET"), false);
  } finally {
    await gw.close();
    await mock.close();
  }
});
