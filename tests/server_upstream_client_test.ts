import assert from "node:assert/strict";
import { startGatewayProcess } from "./helpers/process.ts";
import { type RawConnection, startRawUpstream } from "./helpers/raw_upstream.ts";

const CONFIG = (upstream: string) => `
routes:
  - name: up
    path: /up
    upstream: ${upstream}
    allow: ["GET /**", "POST /**"]
`;

function genuine(target: string): string {
  const body = `real ${target}`;
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

/**
 * An upstream whose first connection answers one request, then reads the next (a POST) in
 * full and drops it unanswered; later connections answer everything.
 */
function droppingUpstream() {
  return startRawUpstream(async (conn: RawConnection) => {
    if (conn.index === 0) {
      const warm = await conn.request();
      if (!warm) return;
      await conn.write(genuine(warm.target));
      await conn.request(); // read in full, then the connection drops without an answer
      return;
    }
    for (let request = await conn.request(); request; request = await conn.request()) {
      await conn.write(genuine(request.target));
    }
  });
}

/** The POST count the upstream saw through `main.ts serve` run with `env`. */
async function postsSeen(env: Record<string, string>): Promise<{ status: number; posts: number }> {
  const upstream = droppingUpstream();
  const gw = await startGatewayProcess(CONFIG(upstream.url), env);
  try {
    assert.equal(await (await fetch(`${gw.url}/up/warm`)).text(), "real /warm");
    const charge = await fetch(`${gw.url}/up/charge`, { method: "POST", body: '{"n":1}' });
    await charge.body?.cancel();
    const posts = upstream.requests.filter((request) => request.method === "POST").length;
    return { status: charge.status, posts };
  } finally {
    await gw.stop();
    await upstream.close();
  }
}

Deno.test("the standalone server sends a POST the upstream dropped unanswered once (its own HTTP/1.1 client)", async () => {
  assert.deepEqual(await postsSeen({}), { status: 502, posts: 1 });
});

// With an outbound proxy variable set the server calls upstreams through the runtime's fetch
// (which honours the proxy; NO_PROXY lets this loopback upstream bypass it). That fetch sends
// the POST again on a new connection: the reason the server keeps its own client otherwise.
Deno.test("with HTTP_PROXY set the server uses the runtime's fetch, which sends that POST again", async () => {
  const seen = await postsSeen({ HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1" });
  assert.equal(seen.posts, 2, "Deno's fetch no longer sends it again: see src/server.ts");
});
