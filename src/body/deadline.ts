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
import type { RequestState } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import { unwatch, watch, type Watched } from "../proxy/watchdog.ts";
import { DEFAULT_TIMEOUTS } from "../config/timeouts.ts";

/** Raised inside a request body that went silent for longer than the body timeout. */
export class BodyTimeout extends Error {
  constructor(ms: number) {
    super(`The request body stalled for more than ${ms} ms`);
    this.name = "BodyTimeout";
  }
}

/** The 408 answer, noted on the request's record and ready as its refusal. */
function timedOut(state: RequestState): void {
  state.record.error = "client body timed out";
  state.record.aborted = true;
  // The server marks the answer `connection: close` itself: the rest of the body is unread.
  state.refusal = errorResponse(
    "request_timeout",
    "The request body did not arrive in time",
  );
}

/**
 * Reads the client's whole body (a small one, of declared length); past the body timeout the
 * read fails with {@linkcode BodyTimeout} and `state.refusal` holds the 408 to send.
 *
 * @example
 * ```ts
 * const bytes = await readBodyWithin(request, state);
 * ```
 */
export function readBodyWithin(
  request: Request,
  state: RequestState,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const guard = new ReadGuard(state, reject);
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
  readonly #state: RequestState;
  readonly #reject: (error: unknown) => void;

  constructor(state: RequestState, reject: (error: unknown) => void) {
    this.deadline = performance.now() + bodyTimeoutOf(state);
    this.#state = state;
    this.#reject = reject;
  }

  tick(): void {}

  expire(): void {
    timedOut(this.#state);
    this.#reject(new BodyTimeout(bodyTimeoutOf(this.#state)));
  }
}

/**
 * Wraps the client's body stream so that it errors with {@linkcode BodyTimeout} (and
 * `state.refusal` holds the 408) once no byte has come for the body timeout.
 *
 * @example
 * ```ts
 * const body = watchBody(request.body!, state);
 * ```
 */
export function watchBody(
  body: ReadableStream<Uint8Array>,
  state: RequestState,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new BodyWatch(body, state), { highWaterMark: 0 });
}

class BodyWatch implements Watched, UnderlyingDefaultSource<Uint8Array> {
  deadline = 0;
  watchSlot?: number;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #state: RequestState;
  readonly #ms: number;
  #out?: ReadableStreamDefaultController<Uint8Array>;
  /** Bytes came since the watchdog last looked. */
  #active = false;
  #done = false;

  constructor(body: ReadableStream<Uint8Array>, state: RequestState) {
    this.#reader = body.getReader();
    this.#state = state;
    this.#ms = bodyTimeoutOf(state);
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
    timedOut(this.#state);
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

function bodyTimeoutOf(state: RequestState): number {
  return state.bodyTimeoutMs ?? DEFAULT_TIMEOUTS.body;
}
