/**
 * Request bodies counted on the wire: a declared length over the cap is refused before the
 * upstream is called, and a chunked body is cut the moment it passes the cap, which errors
 * the upload and so aborts the upstream request.
 *
 * @module
 */

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
 * const body = cappedBody(request.body!, 1024 * 1024, {
 *   onBytes: (n) => (bytesIn = n),
 *   onExceeded: () => (tooLarge = true),
 * });
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

/**
 * Reads a whole body, refusing at the first byte past `cap`.
 *
 * @throws {BodyTooLarge} when the body is larger than `cap`
 */
export async function readCapped(
  body: ReadableStream<Uint8Array>,
  cap: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > cap) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(cap);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}
