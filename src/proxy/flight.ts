/**
 * One upstream call in flight, as a single object: the abort controller the upstream fetch
 * listens to, its entry in the shared {@linkcode watch | watchdog} (first-byte timeout, then
 * idle timeout), the client hang-up listener, and the end of the response body (bytes, usage,
 * the log line). Keeping all of it on one object spares a closure, a timer and a listener per
 * request on the hot path.
 *
 * A response body reaches the client in one of two ways:
 * - passed through untouched (`passThrough`): the runtime moves the bytes natively, and the
 *   server's `completed` promise says when the client has it all. Used for bodies of known,
 *   bounded length that nobody needs to read.
 * - relayed (`relay`): a JavaScript stream that counts bytes, feeds the usage meter and pushes
 *   the idle deadline back as bytes flow. Used for everything else (SSE, chunked, metered).
 *
 * @module
 */
import { finish, type RequestState } from "../context.ts";
import type { UsageMeter } from "../observe/usage.ts";
import { unwatch, watch, type Watched } from "./watchdog.ts";

/** The abort reason when the upstream is silent for longer than the route's timeout. */
export class UpstreamTimeout extends Error {
  constructor() {
    super("Upstream did not answer in time");
    this.name = "UpstreamTimeout";
  }
}

/** Waiting for the upstream's response headers. */
const WAITING = 0;
/** Streaming the response body to the client. */
const STREAMING = 1;
/** Done: the body ended, failed or was cancelled. */
const ENDED = 2;

/** A request to the upstream and, later, its response body on the way to the client. */
export class Flight implements Watched, UnderlyingDefaultSource<Uint8Array> {
  /** Aborted on timeout or client hang-up; the upstream fetch listens to its signal. */
  readonly controller: AbortController = new AbortController();
  /** `performance.now()` when the flight started. */
  readonly startedAt: number;
  /** When the watchdog expires this flight (see {@linkcode Watched}). */
  deadline: number;
  /** The flight's slot in the watchdog (see {@linkcode Watched}). */
  watchSlot?: number;
  readonly #request: Request;
  readonly #timeoutMs: number;
  readonly #state: RequestState;
  #phase = WAITING;
  #listening = false;
  /** Bytes arrived since the watchdog last looked. */
  #active = false;
  #bytes = 0;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #meter?: UsageMeter;

  /** Starts the clock: the upstream has `timeoutMs` to answer. */
  constructor(request: Request, timeoutMs: number, state: RequestState) {
    this.#request = request;
    this.#timeoutMs = timeoutMs;
    this.#state = state;
    this.startedAt = performance.now();
    this.deadline = this.startedAt + timeoutMs;
    watch(this, this.startedAt);
  }

  /** The signal to give the upstream fetch. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Watchdog check: pushes the idle deadline back, or starts noticing client hang-ups. */
  tick(now: number): void {
    if (this.#phase === WAITING) {
      // Fast answers never touch request.signal (creating and aborting it is costly); a
      // request still waiting at a check starts listening, so a hang-up is noticed within
      // a check period.
      if (!this.#listening) this.#listen();
    } else if (this.#active) {
      this.#active = false;
      this.deadline = now + this.#timeoutMs;
    }
  }

  /** Watchdog expiry: the upstream was silent for too long. */
  expire(): void {
    this.controller.abort(new UpstreamTimeout());
  }

  /** The client's request signal fired while waiting: the client hung up. */
  handleEvent(): void {
    if (this.#phase === WAITING) this.controller.abort(this.#request.signal.reason);
  }

  #listen(): void {
    const signal = this.#request.signal;
    if (signal.aborted) {
      this.controller.abort(signal.reason);
      return;
    }
    this.#listening = true;
    signal.addEventListener("abort", this, { once: true });
  }

  #stopListening(): void {
    if (!this.#listening) return;
    this.#listening = false;
    // Deno.serve may abort request.signal once a response exists; from here on only a
    // cancelled response body (a real hang-up) may abort the upstream.
    this.#request.signal.removeEventListener("abort", this);
  }

  /** The upstream answered (headers in): from now on the timeout is an idle timeout. */
  answered(now: number): void {
    this.#stopListening();
    this.#phase = STREAMING;
    this.deadline = now + this.#timeoutMs;
  }

  /** No body will be streamed (the call failed, or the answer is complete): stop the clock. */
  settle(): void {
    this.#stopListening();
    this.#phase = ENDED;
    unwatch(this);
  }

  /**
   * Lets the runtime pass `length` bytes through natively; `completed` (the server's) says
   * when the client has them all, or rejects when it hung up or the upstream failed.
   */
  passThrough(completed: Promise<void>, length: number): void {
    this.#state.streaming = true;
    completed.then(
      () => {
        this.#bytes = length;
        this.#end(false);
      },
      () => this.#end(true),
    );
  }

  /** Wraps `body` in a stream that counts bytes, feeds `meter` and keeps the idle clock. */
  relay(body: ReadableStream<Uint8Array>, meter: UsageMeter | undefined): ReadableStream {
    this.#state.streaming = true;
    this.#reader = body.getReader();
    this.#meter = meter;
    return new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
  }

  /** Stream source: hands on the upstream's next chunk. */
  async pull(out: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      const { done, value } = await this.#reader!.read();
      if (done) {
        out.close();
        this.#end(false);
        return;
      }
      this.#active = true;
      this.#bytes += value.byteLength;
      this.#meter?.feed(value);
      out.enqueue(value);
    } catch (error) {
      this.#state.record.error = this.controller.signal.reason instanceof UpstreamTimeout
        ? "upstream went silent mid-stream"
        : `upstream stream failed: ${(error as Error).name}`;
      out.error(error);
      this.#end(true);
    }
  }

  /** Stream source: the client hung up mid-body. */
  cancel(reason: unknown): void {
    this.controller.abort(reason);
    this.#reader?.cancel(reason).catch(() => {});
    this.#end(true);
  }

  #end(aborted: boolean): void {
    if (this.#phase === ENDED) return;
    this.#phase = ENDED;
    unwatch(this);
    const record = this.#state.record;
    if (aborted) {
      record.aborted = true;
      if (!record.error && this.controller.signal.reason instanceof UpstreamTimeout) {
        record.error = "upstream went silent mid-stream";
      }
    }
    // A body passed through natively has a known length only when it was all delivered.
    if (this.#reader || !aborted) record.bytes_out = this.#bytes;
    const usage = this.#meter?.finish();
    if (usage) record.tokens = usage;
    finish(this.#state);
  }
}
