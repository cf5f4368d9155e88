/**
 * The body timeout: a client that stops sending its request body is answered 408 and its
 * upstream request (if one started) is aborted, instead of holding a connection, a request
 * slot and an upstream connection forever. A streamed body may be slow in all as long as its
 * bytes keep coming (the timeout is the longest silence between them, as nginx's
 * `client_body_timeout`); a small body read whole must arrive whole within the timeout.
 *
 * Where the body is read: small bodies of declared length, bodies read for rules or held for a
 * replay, and chunked bodies. A large body of declared length is piped to the upstream by the
 * runtime without passing through JavaScript (twice as fast); its stall is bounded by the
 * route's timeout, which runs until the upstream answers.
 *
 * Both run on the shared {@linkcode watch | watchdog}: no timer per request.
 *
 * @module
 */
import { unwatch, watch, type Watched } from "../proxy/watchdog.ts";

/** Who hears that a body stalled, and after how long. */
export interface BodyClock {
  /** The longest silence allowed while the body arrives, in ms (`server.timeouts.body`). */
  readonly bodyTimeoutMs: number;
  /** Called once when the body went silent past it (the answer becomes a 408). */
  bodyTimedOut(): void;
}

/** Raised inside a request body that went silent for longer than the body timeout. */
export class BodyTimeout extends Error {
  constructor(ms: number) {
    super(`The request body stalled for more than ${ms} ms`);
    this.name = "BodyTimeout";
  }
}

/**
 * Reads the client's whole body (a small one, of declared length); past the body timeout the
 * read fails with {@linkcode BodyTimeout} and `clock` hears of it.
 *
 * @example
 * ```ts
 * import { readBodyWithin } from "./deadline.ts";
 *
 * const request = new Request("http://gateway/x", { method: "POST", body: "hi" });
 * const clock = { bodyTimeoutMs: 60_000, bodyTimedOut() {} };
 * const bytes = await readBodyWithin(request, clock);
 * if (bytes.byteLength !== 2) throw new Error("not read");
 * ```
 */
export function readBodyWithin(
  request: Request,
  clock: BodyClock,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const guard = new ReadGuard(clock, reject);
    watch(guard);
    request.bytes().then((bytes) => {
      unwatch(guard);
      resolve(bytes);
    }, (error) => {
      unwatch(guard);
      reject(error);
    });
  });
}

class ReadGuard implements Watched {
  deadline: number;
  watchSlot?: number;
  readonly #clock: BodyClock;
  readonly #reject: (error: unknown) => void;

  constructor(clock: BodyClock, reject: (error: unknown) => void) {
    this.deadline = performance.now() + clock.bodyTimeoutMs;
    this.#clock = clock;
    this.#reject = reject;
  }

  tick(): void {}

  expire(): void {
    this.#clock.bodyTimedOut();
    this.#reject(new BodyTimeout(this.#clock.bodyTimeoutMs));
  }
}

/**
 * Wraps the client's body stream so that it errors with {@linkcode BodyTimeout} (and `clock`
 * hears of it) once no byte has come for the body timeout.
 *
 * @example
 * ```ts
 * import { watchBody } from "./deadline.ts";
 *
 * const request = new Request("http://gateway/x", { method: "POST", body: "hi" });
 * const body = watchBody(request.body!, { bodyTimeoutMs: 60_000, bodyTimedOut() {} });
 * if ((await new Response(body).text()) !== "hi") throw new Error("not passed");
 * ```
 */
export function watchBody(
  body: ReadableStream<Uint8Array>,
  clock: BodyClock,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new BodyWatch(body, clock), { highWaterMark: 0 });
}

class BodyWatch implements Watched, UnderlyingDefaultSource<Uint8Array> {
  deadline = 0;
  watchSlot?: number;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #clock: BodyClock;
  readonly #ms: number;
  #out?: ReadableStreamDefaultController<Uint8Array>;
  /** Bytes came since the watchdog last looked. */
  #active = false;
  #done = false;

  constructor(body: ReadableStream<Uint8Array>, clock: BodyClock) {
    this.#reader = body.getReader();
    this.#clock = clock;
    this.#ms = clock.bodyTimeoutMs;
  }

  start(out: ReadableStreamDefaultController<Uint8Array>): void {
    this.#out = out;
    this.deadline = performance.now() + this.#ms;
    watch(this);
  }

  tick(now: number): void {
    if (!this.#active) return;
    this.#active = false;
    this.deadline = now + this.#ms;
  }

  expire(): void {
    if (this.#done) return;
    this.#done = true;
    this.#clock.bodyTimedOut();
    const error = new BodyTimeout(this.#ms);
    this.#out!.error(error);
    this.#reader.cancel(error).catch(() => {});
  }

  async pull(out: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await this.#reader.read();
    } catch (error) {
      if (this.#done) return;
      this.#finish();
      out.error(error);
      return;
    }
    if (this.#done) return;
    if (result.done) {
      this.#finish();
      out.close();
      return;
    }
    this.#active = true;
    out.enqueue(result.value);
  }

  cancel(reason: unknown): Promise<void> {
    this.#finish();
    return this.#reader.cancel(reason);
  }

  #finish(): void {
    this.#done = true;
    unwatch(this);
  }
}
