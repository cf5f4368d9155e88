/**
 * Request bodies counted on the wire: a declared length over the cap is refused before the
 * upstream is called, and a chunked body is cut the moment it passes the cap, which errors
 * the upload and so aborts the upstream request.
 *
 * @module
 */
import type { BodyLease } from "./budget.ts";
import { concatBytes } from "../bytes.ts";
import { SPLICE_ROOM } from "./splice.ts";

/** Raised inside a capped stream when the cap is passed. */
export class BodyTooLarge extends Error {
  constructor(cap: number) {
    super(`The request body is larger than ${cap} bytes`);
    this.name = "BodyTooLarge";
  }
}

/**
 * Wraps `body` so that it errors once more than `cap` bytes have passed; `onBytes` hears the
 * running count, `onExceeded` hears the moment the cap is passed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cappedBody } from "./cap.ts";
 *
 * const request = new Request("http://gateway/x", { method: "POST", body: "0123456789" });
 * let bytesIn = 0;
 * let tooLarge = false;
 * const body = cappedBody(request.body!, 4, {
 *   onBytes: (n) => (bytesIn = n),
 *   onExceeded: () => (tooLarge = true),
 * });
 * await assert.rejects(new Response(body).text(), { name: "BodyTooLarge" });
 * assert.ok(tooLarge);
 * assert.equal(bytesIn, 10);
 * ```
 */
export function cappedBody(
  body: ReadableStream<Uint8Array>,
  cap: number,
  events: { onBytes(bytes: number): void; onExceeded(): void },
): ReadableStream<Uint8Array> {
  let bytes = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        events.onBytes(bytes);
        if (bytes > cap) {
          events.onExceeded();
          controller.error(new BodyTooLarge(cap));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Raised when the body budget has no room for a body's bytes. */
export class BodyBudgetFull extends Error {
  /** The bytes read when the budget ran out. */
  readonly bytes: number;
  constructor(bytes: number) {
    super("The gateway holds as many request bodies as it can");
    this.name = "BodyBudgetFull";
    this.bytes = bytes;
  }
}

/**
 * Reads a whole body, refusing at the first byte past `cap`, and holding each byte in
 * `lease` as it arrives (a lease taken for a declared length already holds them). A body of
 * known `length` is read straight into one buffer of that size. The buffer keeps
 * {@linkcode SPLICE_ROOM} free bytes before the body, for the rules' added fields.
 *
 * @throws {BodyTooLarge} when the body is larger than `cap`
 * @throws {BodyBudgetFull} when the budget has no room for the bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyBudget } from "./budget.ts";
 * import { readHeld } from "./cap.ts";
 *
 * const request = new Request("http://gateway/x", { method: "POST", body: '{"model":"m"}' });
 * const lease = new BodyBudget().lease(0)!;
 * const bytes = await readHeld(request.body!, 4 * 1024 * 1024, lease);
 * assert.equal(new TextDecoder().decode(bytes), '{"model":"m"}');
 * assert.equal(lease.bytes, bytes.byteLength); // held until the lease is released
 * lease.release();
 * ```
 */
export async function readHeld(
  body: ReadableStream<Uint8Array>,
  cap: number,
  lease: BodyLease,
  length?: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const room = SPLICE_ROOM;
  let whole = length !== undefined && length <= cap ? new Uint8Array(room + length) : undefined;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const total = bytes + value.byteLength;
      if (total > cap) throw new BodyTooLarge(cap);
      if (!lease.grow(total)) throw new BodyBudgetFull(total);
      if (whole && room + total <= whole.byteLength) whole.set(value, room + bytes);
      else {
        // More than was declared (a runtime that does not hold a body to its length).
        if (whole) chunks.push(whole.subarray(room, room + bytes));
        whole = undefined;
        chunks.push(value);
      }
      bytes = total;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  if (whole) return whole.subarray(room, room + bytes);
  return concatBytes(chunks, room).subarray(room);
}
