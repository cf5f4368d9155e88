/**
 * What every framework app serving keyward must do, checked from outside with a raw client
 * sending `Accept-Encoding: gzip`: a streamed answer arrives event by event, the server's key
 * (never the browser's) reaches the upstream, and `auth: none` limits count per client.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MockUpstream } from "./mock_upstream.ts";
import { timedRequest } from "./timed_client.ts";

/** The spacing of the mock's events. */
export const SPACING_MS = 150;
const streamed = JSON.stringify({ model: "m", stream: true, messages: [] });
const chat = JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] });

function streamOnce(url: string) {
  return timedRequest(`${url}/v1/chat/completions?spacing=${SPACING_MS}`, {
    body: streamed,
    headers: { authorization: "Bearer browser-secret" },
  });
}

/** True when events arrived at (mostly) separate moments, spread over their sending time. */
function spread(times: number[]): boolean {
  return new Set(times).size >= 5 && times.at(-1)! - times[0] >= 3 * SPACING_MS;
}

/**
 * Streams a chat completion through `routeUrl` and checks its seven events (sent 150 ms apart)
 * reached the client as they were sent, with `key` upstream. The client asks for gzip; the
 * stream says `no-transform`, so compression middleware in the app leaves it plain.
 */
export async function checkStreamed(
  routeUrl: string,
  mock: MockUpstream,
  key: string,
): Promise<void> {
  const seen = mock.requests.length;
  // A process starved of CPU for a second (2 shared cores) can hold every event back once;
  // a buffering fault holds them back every time, so a second try tells the two apart.
  let stream = await streamOnce(routeUrl);
  if (!spread(stream.eventTimes)) stream = await streamOnce(routeUrl);
  assert.equal(stream.status, 200, stream.text);
  assert.equal(stream.headers["content-encoding"], undefined);
  assert.match(stream.headers["cache-control"] ?? "", /no-transform/);
  assert.match(stream.text, /" mock"/);
  assert.match(stream.text, /data: \[DONE\]/);
  const times = stream.eventTimes;
  assert.equal(times.length, 7);
  assert.ok(spread(times), `events arrived together: ${times.join(", ")}`);
  assert.equal(mock.requests[seen].headers.authorization, `Bearer ${key}`);
}

/**
 * Checks a route limited to 2 requests a minute with `auth: none` counts per client: two
 * pass from 127.0.0.2, the third is refused, and 127.0.0.3 still passes.
 */
export async function checkPerClient(routeUrl: string): Promise<void> {
  const from = (address: string) =>
    timedRequest(`${routeUrl}/v1/chat/completions`, { body: chat, from: address });
  assert.equal((await from("127.0.0.2")).status, 200);
  assert.equal((await from("127.0.0.2")).status, 200);
  const refused = await from("127.0.0.2");
  assert.equal(refused.status, 429, refused.text);
  assert.equal(JSON.parse(refused.text).error.type, "rate_limited");
  const other = await from("127.0.0.3");
  assert.equal(other.status, 200, other.text);
}
