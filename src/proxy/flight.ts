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
 *   the idle deadline back as bytes flow. Used for everything else (SSE, chunked, metered,
 *   and every body scanned for the key: error and redirect bodies included, so the route's
 *   timeout and the client's hang-up govern them to their last byte).
 *
 * A relayed event stream goes on in whole events; when the upstream breaks it off, the
 * half-sent event is dropped and the client gets a final `event: error` instead of a
 * network error.
 *
 * @module
 */
import { finish, type RequestState } from "../context.ts";
import type { UsageMeter } from "../observe/usage.ts";
import type { StreamRedactor } from "./redact.ts";
import { errorEvent, EventFramer } from "./sse.ts";
import { unwatch, watch, type Watched } from "./watchdog.ts";

/** The abort reason when the upstream is silent for longer than the route's timeout. */
export class UpstreamTimeout extends Error {
  constructor() {
    super("Upstream did not answer in time");
    this.name = "UpstreamTimeout";
  }
}

/** The reason a body scanned under a cap is cut: it ran past the cap. */
export class BodyPastCap extends Error {
  constructor(cap: number) {
    super(`Upstream body is larger than ${cap} bytes`);
    this.name = "BodyPastCap";
  }
}

/**
 * The cancel reason that drops a relayed response without ending the request (its log line,
 * its limits): the forwarder is about to send the request again.
 */
const DISCARDED = Symbol("discarded");

/**
 * Drops `response` (from {@linkcode Flight.relay} or not) because the request is sent again:
 * its upstream call is cancelled and nothing about it is logged or charged.
 */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel(DISCARDED);
}

/** How a relayed body ended. */
const COMPLETE = 0;
/** The client hung up, or the gateway cut the body (timeout, cap). */
const CUT = 1;
/** The upstream broke the body off, or sent more than the gateway takes. */
const BROKEN = 2;
type Ending = typeof COMPLETE | typeof CUT | typeof BROKEN;

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
  #redactor?: StreamRedactor;
  /** Bytes a scanned body may hold (decoded), past which it is cut. */
  #cap = Infinity;
  #scanned = 0;
  #events?: EventFramer;
  /** The request body's size, when the answer is billable and its usage may be estimated. */
  #inputBytes?: number;

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
    // The fetch ends the body on abort; cancelling it too does not rely on that.
    this.#reader?.cancel().catch(() => {});
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
        this.#end(COMPLETE);
      },
      () => this.#end(CUT),
    );
  }

  /**
   * Has the next relayed body scanned by `redactor`, and cut past `cap` bytes (decoded); call
   * before {@linkcode Flight.relay}.
   */
  scan(redactor: StreamRedactor, cap = Infinity): void {
    this.#redactor = redactor;
    this.#cap = cap;
  }

  /**
   * Settings for the next relayed body: `events` when it is an event stream the gateway may
   * end with an event of its own (plain text: no coding left on it), and the request body's
   * size when the answer is billable, for a usage estimate should it end without usage.
   */
  relayOptions(events: boolean, inputBytes: number | undefined): void {
    if (events) this.#events = new EventFramer();
    this.#inputBytes = inputBytes;
  }

  /** Wraps `body` in a stream that counts bytes, feeds `meter` and keeps the idle clock. */
  relay(body: ReadableStream<Uint8Array>, meter: UsageMeter | undefined): ReadableStream {
    this.#state.streaming = true;
    this.#reader = body.getReader();
    this.#meter = meter;
    return new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
  }

  /** Stream source: hands on the upstream's next chunk (scanned, in whole events). */
  async pull(out: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      // Until something can go: a chunk may be all held back (a partial key or event).
      for (;;) {
        const { done, value } = await this.#reader!.read();
        if (done) {
          // A body cancelled by the watchdog ends like this too: that is a cut, not an end.
          if (this.controller.signal.aborted) throw this.controller.signal.reason;
          // What the redactor held (not a key after all), then what the framer held.
          let last = this.#redactor?.end();
          if (last && this.#events) last = this.#events.push(last);
          const tail = this.#events?.end();
          if (last) this.#send(out, last);
          if (tail) this.#send(out, tail);
          out.close();
          this.#end(COMPLETE);
          return;
        }
        this.#active = true;
        this.#meter?.feed(value);
        let chunk: Uint8Array | undefined = value;
        if (this.#redactor) {
          this.#scanned += value.byteLength;
          if (this.#scanned > this.#cap) throw new BodyPastCap(this.#cap);
          chunk = this.#redactor.push(value);
        }
        if (this.#events && chunk.byteLength > 0) chunk = this.#events.push(chunk);
        if (chunk && chunk.byteLength > 0) return this.#send(out, chunk);
      }
    } catch (error) {
      this.#failed(out, error);
    }
  }

  #send(out: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): void {
    this.#bytes += chunk.byteLength;
    out.enqueue(chunk);
  }

  /** The relayed body failed: the upstream broke it off, went silent, or ran past the cap. */
  #failed(out: ReadableStreamDefaultController<Uint8Array>, error: unknown): void {
    if (this.#phase === ENDED) return; // the client hung up first
    const record = this.#state.record;
    const reason = this.controller.signal.reason;
    try {
      if (error instanceof BodyPastCap) {
        record.error = `upstream body past the ${this.#cap} byte cap`;
        this.controller.abort(error);
        this.#reader?.cancel(error).catch(() => {});
        out.error(error);
        this.#end(BROKEN);
      } else if (reason instanceof UpstreamTimeout) {
        record.error = "upstream went silent mid-stream";
        out.error(error);
        this.#end(CUT);
      } else if (this.#events) {
        // The half-sent event is dropped; the client gets a clean last event and a clean end.
        record.error = "upstream stream broken";
        out.enqueue(errorEvent("bad_gateway", "The upstream broke off the stream"));
        out.close();
        this.#end(BROKEN);
      } else {
        record.error = "upstream stream broken";
        out.error(error);
        this.#end(BROKEN);
      }
    } catch {
      // the stream was cancelled meanwhile
      this.#end(CUT);
    }
  }

  /** Stream source: the client hung up mid-body (or the forwarder discards the answer). */
  cancel(reason: unknown): void {
    this.controller.abort(reason);
    this.#reader?.cancel(reason).catch(() => {});
    if (reason === DISCARDED) {
      this.#phase = ENDED;
      unwatch(this);
      this.#state.streaming = false;
      return;
    }
    this.#end(CUT);
  }

  #end(ending: Ending): void {
    if (this.#phase === ENDED) return;
    this.#phase = ENDED;
    unwatch(this);
    const record = this.#state.record;
    if (ending === CUT) {
      record.aborted = true;
      if (!record.error && this.controller.signal.reason instanceof UpstreamTimeout) {
        record.error = "upstream went silent mid-stream";
      }
    }
    // A body passed through natively has a known length only when it was all delivered.
    if (this.#reader || ending === COMPLETE) record.bytes_out = this.#bytes;
    const charge = this.#meter?.charge(this.#inputBytes, ending === COMPLETE);
    if (charge) {
      record.tokens = charge.usage;
      if (charge.estimated) record.tokens_estimated = true;
    }
    finish(this.#state);
  }
}
