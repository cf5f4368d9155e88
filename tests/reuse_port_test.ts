import assert from "node:assert/strict";
import { startGatewayProcess } from "./helpers/process.ts";

const CONFIG = `
routes:
  - name: up
    path: /up
    upstream: http://127.0.0.1:1
    allow: ["GET /**"]
`;

Deno.test("with --reuse-port two gateways listen on one port and both serve", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String((listener.addr as Deno.NetAddr).port);
  listener.close();
  const first = await startGatewayProcess(CONFIG, {}, ["--port", port, "--reuse-port"]);
  const second = await startGatewayProcess(CONFIG, {}, ["--port", port, "--reuse-port"]);
  try {
    assert.equal(first.url, second.url);
    for (let i = 0; i < 20; i++) {
      const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
      const response = await fetch(`${first.url}/healthz`, { client });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      client.close();
    }
  } finally {
    await first.stop();
    await second.stop();
  }
  assert.equal(first.logs.length + second.logs.length, 20, "every request served and logged");
});
