/**
 * Forwarding through a key pool: the upstream's answer is reported to the pool's health, and a
 * request refused for its key (401, 403, 429) is sent once more on another key when its body
 * can be replayed.
 *
 * @module
 */
import type { RequestState } from "../context.ts";
import { KeyHealth } from "../keys/health.ts";
import type { KeyEntry, KeySource } from "../keys/source.ts";
import type { CompiledRoute } from "../route.ts";
import { discard } from "./flight.ts";
import { forward, type ForwardInput } from "./forward.ts";
import { readBodyWithin } from "../body/deadline.ts";

/** Bodies up to this size are held so that a refused request can be replayed. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

/** The body as bytes when it can be replayed, null when there is none, else undefined. */
async function replayable(
  input: ForwardInput,
  state: RequestState,
): Promise<BodyInit | null | undefined> {
  const request = input.request;
  // A body the rules read is bytes and replays as it is; a capped stream can be sent once.
  if (input.body instanceof Uint8Array) return input.body;
  if (input.body !== undefined) return undefined;
  if (!request.body) return null;
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (!(length <= MAX_REPLAY_BYTES)) return undefined; // unknown or large: stream it, once
  return await readBodyWithin(request, state);
}

/**
 * Forwards with `key` from `pool`, retrying once on another healthy key when the upstream
 * blamed the key and the body can be sent again.
 */
export async function forwardWithPool(
  route: CompiledRoute,
  state: RequestState,
  input: ForwardInput & { key: KeyEntry },
  pool: KeySource,
): Promise<Response> {
  let body: BodyInit | null | undefined;
  try {
    body = await replayable(input, state);
  } catch (error) {
    if (state.refusal) return state.refusal; // the body timed out
    throw error;
  }
  const first: ForwardInput = body === undefined ? input : { ...input, body };
  const response = await forward(route, state, first);
  pool.health.report(input.key, response.status, response.headers.get("retry-after"));
  if (body === undefined || !KeyHealth.blamesKey(response.status)) return response;
  const other = pool.pick(input.key);
  if (!other) return response;
  // Dropped without ending the request: its log line and limits belong to the retry.
  await discard(response);
  state.record.retried = true;
  const retry = await forward(route, state, { ...first, key: other });
  pool.health.report(other, retry.status, retry.headers.get("retry-after"));
  return retry;
}
