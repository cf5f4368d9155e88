/**
 * One upstream call in flight, as a single object: the abort controller the upstream fetch
 * listens to, its entry in the shared {@linkcode watch | watchdog} (first-byte timeout, then
 * idle timeout), the client hang-up listener, and the end of the response body. Keeping all of
 * it on one object spares a closure, a timer and a listener per request on the hot path.
 *
 * A response body reaches the client in one of two ways:
 * - passed through untouched (`passThrough`): the runtime moves the bytes natively, and the
 *   server's `completed` promise says when the client has it all. Used for bodies of known,
 *   bounded length that nobody needs to read.
 * - relayed (`relay`): a JavaScript stream that counts bytes, hands a copy to a tap (a usage
 *   meter), passes each chunk through a step (a key redactor), and pushes the idle deadline
 *   back as bytes flow. Used for everything else (SSE, chunked, metered, scanned: error and
 *   redirect bodies included, so the route's timeout and the client's hang-up govern them to
 *   their last byte).
 *
 * A relayed event stream goes on in whole events; when the upstream breaks it off or goes
 * silent, the half-sent event is dropped, the client gets a final error event (in the error
 * shape the sender names, see `sse.ts`), and a moment after the server has taken that event
 * ({@linkcode CUT_DELAY_MS}, time to read it) the body is cut: the stream errors, so the server
 * aborts the response without its last chunk and a reader that ignores events sees a network
 * error too, never a clean end.
 *
 * The flight knows nothing of routes or requests beyond the client's `Request`: when the
 * body has ended it hands a {@linkcode Delivery} to whoever sent it.
 *
 * @module
 */
import type { OutcomeCode } from "../outcome.ts";
import { cutEvent, type CutReason, type ErrorShape, EventFramer } from "./sse.ts";
import { unwatch, watch, type Watched } from "./watchdog.ts";

/**
 * How long an event stream cut short stays open once the server has taken its last event, so
 * that the client reads the event before the stream errors (a browser's fetch drops what the
 * page has not read yet when the body errors, and a busy page may take a while to read).
 */
export const CUT_DELAY_MS = 1000;

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
 * The error a relayed body is cut with, after its last event: the server aborts the response
 * (no last chunk), and it is no failure of the server's (a server's error hook may pass it over
 * by its `name`).
 */
export class StreamCut extends Error {
  constructor(reason: CutReason, options?: ErrorOptions) {
    super(
      `The stream was cut: the upstream ${reason === "broken" ? "broke it off" : "went silent"}`,
      options,
    );
    this.name = "StreamCut";
  }
}

/** A step every relayed chunk passes through (a key redactor): what it returns goes on. */
export interface ChunkStep {
  /** The bytes of `chunk` that can go now (possibly empty: held for the next chunk). */
  push(chunk: Uint8Array): Uint8Array;
  /** What was held back, at the end of the body. */
  end(): Uint8Array | undefined;
}

/** Reads a copy of every chunk as the upstream sent it (decoded), without holding any back. */
export interface Tap {
  /** One chunk of the body. */
  feed(chunk: Uint8Array): void;
}

/** How a response body ended, as the flight hands it to its sender. */
export interface Delivery {
  /** True when the whole body reached the client. */
  complete: boolean;
  /** Body bytes sent to the client, when known (a body passed through and cut has none). */
  bytes?: number;
  /** True when the client hung up, or the gateway cut the body (timeout, cap). */
  aborted: boolean;
  /** Why it did not complete, when the upstream or the gateway ended it. */
  outcome?: OutcomeCode;
  /** True when the sender dropped the answer to send the request again (nothing to record). */
  discarded: boolean;
}

/**
 * The cancel reason that drops a relayed response without ending it: the sender is about to
 * send the request again.
 */
const DISCARDED = Symbol("discarded");

/**
 * Drops `response` (relayed or not) because the request is sent again: its upstream call is
 * cancelled and its delivery says `discarded`.
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
  readonly #done: (delivery: Delivery) => void;
  #phase = WAITING;
  #listening = false;
  /** Bytes arrived since the watchdog last looked. */
  #active = false;
  #bytes = 0;
  #outcome?: OutcomeCode;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #tap?: Tap;
  #step?: ChunkStep;
  /** Bytes a scanned body may hold (decoded), past which it is cut. */
  #cap = Infinity;
  #scanned = 0;
  #events?: EventFramer;
  #shape: ErrorShape = "keyward";
  #cutTimer?: ReturnType<typeof setTimeout>;
  /** The error a cut event stream ends with, once the server has taken its last event. */
  #cutError?: StreamCut;

  /**
   * Starts the clock: the upstream has `timeoutMs` to answer; `done` hears how the body
   * ended, once.
   */
  constructor(request: Request, timeoutMs: number, done: (delivery: Delivery) => void) {
    this.#request = request;
    this.#timeoutMs = timeoutMs;
    this.#done = done;
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

  /** The call failed before an answer: stop the clock; nothing will be delivered. */
  failed(): void {
    this.#stopListening();
    this.#phase = ENDED;
    unwatch(this);
  }

  /** The body is already whole (or there is none): `bytes` were delivered with the head. */
  delivered(bytes: number | undefined, outcome?: OutcomeCode): void {
    this.failed();
    this.#done({
      complete: outcome === undefined,
      bytes,
      aborted: false,
      outcome,
      discarded: false,
    });
  }

  /**
   * Lets the runtime pass `length` bytes through natively; `completed` (the server's) says
   * when the client has them all, or rejects when it hung up or the upstream failed.
   */
  passThrough(completed: Promise<void>, length: number): void {
    completed.then(
      () => {
        this.#bytes = length;
        this.#end(COMPLETE);
      },
      () => this.#end(CUT),
    );
  }

  /**
   * Settings for the next relayed body: `tap` reads its bytes; `step` (a redactor) rewrites
   * them, and the body is cut past `cap` bytes; `events` (an error shape) when it is an
   * event stream the flight may end with an event of its own (plain text: no coding left on
   * it).
   */
  relayOptions(
    tap: Tap | undefined,
    step: ChunkStep | undefined,
    cap: number,
    events: ErrorShape | undefined,
  ): void {
    this.#tap = tap;
    this.#step = step;
    this.#cap = cap;
    if (events) {
      this.#events = new EventFramer();
      this.#shape = events;
    }
  }

  /** Wraps `body` in a stream that counts bytes, feeds the tap and keeps the idle clock. */
  relay(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    this.#reader = body.getReader();
    return new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
  }

  /** Stream source: hands on the upstream's next chunk (stepped, in whole events). */
  async pull(out: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const cut = this.#cutError;
    if (cut) {
      // The server took the last event and asks for more: the client is given time to read it.
      this.#cutError = undefined;
      this.#cutTimer = setTimeout(() => out.error(cut), CUT_DELAY_MS);
      return;
    }
    try {
      // Until something can go: a chunk may be all held back (a partial key or event).
      for (;;) {
        const { done, value } = await this.#reader!.read();
        if (done) {
          // A body cancelled by the watchdog ends like this too: that is a cut, not an end.
          if (this.controller.signal.aborted) throw this.controller.signal.reason;
          // What the step held (not a key after all), then what the framer held.
          let last = this.#step?.end();
          if (last && this.#events) last = this.#events.push(last);
          const tail = this.#events?.end();
          if (last) this.#send(out, last);
          if (tail) this.#send(out, tail);
          out.close();
          this.#end(COMPLETE);
          return;
        }
        this.#active = true;
        this.#tap?.feed(value);
        let chunk: Uint8Array | undefined = value;
        if (this.#step) {
          this.#scanned += value.byteLength;
          if (this.#scanned > this.#cap) throw new BodyPastCap(this.#cap);
          chunk = this.#step.push(value);
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
    const reason = this.controller.signal.reason;
    try {
      if (error instanceof BodyPastCap) {
        this.#outcome = "upstream_too_large";
        this.controller.abort(error);
        this.#reader?.cancel(error).catch(() => {});
        out.error(error);
        this.#end(BROKEN);
      } else if (reason instanceof UpstreamTimeout) {
        this.#outcome = "upstream_silent";
        this.#cut(out, "silent", error);
        this.#end(CUT);
      } else {
        this.#outcome = "upstream_broken";
        this.#cut(out, "broken", error);
        this.#end(BROKEN);
      }
    } catch {
      // the stream was cancelled meanwhile
      this.#end(CUT);
    }
  }

  /**
   * Ends the body short: an event stream with a last error event first (the half-sent event
   * dropped), then any body with an error, so that it never looks complete.
   */
  #cut(out: ReadableStreamDefaultController<Uint8Array>, reason: CutReason, cause: unknown): void {
    const error = new StreamCut(reason, { cause });
    if (!this.#events) {
      out.error(error);
      return;
    }
    // A stream that errors drops what its reader has not read yet (a browser's fetch does, as
    // the streams standard says): the stream errors only after the server has taken the event
    // (its next pull) and the client has had a moment to read it.
    this.#send(out, cutEvent(this.#shape, reason));
    this.#cutError = error;
  }

  /** Stream source: the client hung up mid-body (or the sender discards the answer). */
  cancel(reason: unknown): void {
    clearTimeout(this.#cutTimer);
    this.controller.abort(reason);
    this.#reader?.cancel(reason).catch(() => {});
    if (reason === DISCARDED) {
      if (this.#phase === ENDED) return;
      this.#phase = ENDED;
      unwatch(this);
      this.#done({ complete: false, aborted: false, discarded: true });
      return;
    }
    this.#end(CUT);
  }

  #end(ending: Ending): void {
    if (this.#phase === ENDED) return;
    this.#phase = ENDED;
    unwatch(this);
    if (
      ending === CUT && !this.#outcome && this.controller.signal.reason instanceof UpstreamTimeout
    ) {
      this.#outcome = "upstream_silent";
    }
    this.#done({
      complete: ending === COMPLETE,
      // A body passed through natively has a known length only when it was all delivered.
      bytes: this.#reader || ending === COMPLETE ? this.#bytes : undefined,
      aborted: ending === CUT,
      outcome: this.#outcome,
      discarded: false,
    });
  }
}
