/**
 * One request on its way through the gateway: what every stage may read (the request, its
 * id, when it came), what the gateway adds to whatever answers it (`headers`), what happened
 * to it (an outcome code, the facts its log line reports, the usage to charge), and its end.
 *
 * What a stage learns about the request (who the client is, where it goes, which limits
 * apply, its body) is not kept here: each stage publishes it as a typed value of its own (see
 * `stage.ts`), and a stage that needs one says so in its type.
 *
 * The end: a request ends once it has been answered and every part of the gateway that holds
 * it (a streamed body, a queue's heartbeat) has let go. Then, exactly once, the hooks the
 * stages registered run (settling reservations, freeing slots), in order, and last the log
 * line is written. {@linkcode Exchange.answer} and {@linkcode Exchange.release} are the only
 * ways there.
 *
 * @module
 */
import { ERROR_STATUS, type ErrorType } from "./errors.ts";
import type { SessionLog } from "./session_log.ts";
import { errorTypeOf, type OutcomeCode } from "./outcome.ts";
import { addHeaders, addToHeaders, type HeaderRecord, headerRecord } from "./proxy/headers.ts";
import type { Charge } from "./usage/meter.ts";

/** Runs once when the request has ended. */
export type EndHook = (x: Exchange) => void;

/** One request and what became of it. */
export class Exchange {
  /** The client's request. */
  readonly request: Request;
  /** What the server passed with it (`Deno.serve`'s info: the client's address). */
  readonly env: unknown;
  /** The request id (also sent back as `x-request-id`). */
  readonly id: string;
  /** ISO time the request arrived. */
  readonly time: string;
  /** `performance.now()` at arrival. */
  readonly start: number;
  /** The request path, without the query string. */
  readonly path: string;
  /**
   * Headers the gateway adds to whatever answers the request (request id, CORS, rate
   * limits); stages add to it before they pass the request on.
   */
  readonly headers: HeaderRecord;
  /** The matched route's name. */
  route?: string;
  /** The status sent (set when answered; a queue's stream may set the final one later). */
  status = 0;
  /** What went wrong, when something did. */
  outcome?: OutcomeCode;
  /** Free text about the outcome (never a key or a token). */
  detail?: string;
  /** Upstream host and path, in target mode. */
  target?: string;
  /** Request body bytes sent upstream. */
  bytesIn?: number;
  /** Response body bytes sent to the client. */
  bytesOut?: number;
  /** Milliseconds from sending upstream to its response headers. */
  ttfbMs?: number;
  /** True when the client hung up before the response ended. */
  aborted = false;
  /** True when the request was sent again on another key of a pool. */
  retried = false;
  /** The usage to charge, once the answer has ended (the billing channel). */
  charge?: Charge;
  /** What that usage cost, in units of 1e-8 USD, on a route that counts dollars. */
  cost?: number;
  /** What a WebSocket session did, once it has ended (see `src/realtime/`). */
  session?: SessionLog;

  #hooks: EndHook[] = [];
  readonly #log: EndHook;
  #holds = 0;
  #answered = false;
  #ended = false;
  #own?: Response;

  /** A request that arrived now; `log` writes its line when it ends. */
  constructor(
    request: Request,
    env: unknown,
    id: string,
    time: string,
    path: string,
    log: EndHook,
  ) {
    this.request = request;
    this.env = env;
    this.id = id;
    this.time = time;
    this.path = path;
    this.start = performance.now();
    // A plain literal: few known names, walked once per answer.
    this.headers = { "x-request-id": id };
    this.#log = log;
  }

  /** Notes what went wrong; the first note stands (what went wrong first is the cause). */
  note(code: OutcomeCode, detail?: string): void {
    if (this.outcome !== undefined) return;
    this.outcome = code;
    this.detail = detail;
  }

  /**
   * Notes `code` and answers with keyward's JSON error of the code's type (or `type`), with
   * the gateway's headers and `extra` ones.
   */
  refuse(
    code: OutcomeCode,
    message: string,
    extra?: HeaderRecord,
    type: ErrorType = errorTypeOf(code),
    detail?: string,
  ): Response {
    this.note(code, detail);
    const headers = headerRecord();
    headers["content-type"] = "application/json";
    addHeaders(headers, this.headers);
    if (extra) addHeaders(headers, extra);
    return this.own(
      new Response(JSON.stringify({ error: { type, message } }), {
        status: ERROR_STATUS[type],
        headers,
      }),
    );
  }

  /** Marks `response` as carrying the gateway's headers already (built with `headers`). */
  own<R extends Response>(response: R): R {
    this.#own = response;
    return response;
  }

  /** Registers `hook` to run when the request ends (after those registered before it). */
  onEnd(hook: EndHook): void {
    this.#hooks.push(hook);
  }

  /** True when the request was still held when it was answered: its answer streams on. */
  streamed = false;

  /**
   * Holds the request open past its answer (a body still streaming); {@linkcode release} once
   * done with it.
   */
  hold(): void {
    this.#holds++;
  }

  /** Lets go of a {@linkcode hold}; the request ends if it was answered and nothing holds it. */
  release(): void {
    this.#holds--;
    if (this.#holds === 0 && this.#answered) this.#end();
  }

  /**
   * The answer the client gets: it is given the gateway's headers (unless built with them),
   * and the request ends now unless something holds it.
   */
  answer(response: Response): Response {
    if (response !== this.#own) addToHeaders(response.headers, this.headers);
    this.status = response.status;
    this.#answered = true;
    if (this.#holds === 0) this.#end();
    else this.streamed = true;
    return response;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const hook of this.#hooks) {
      try {
        hook(this);
      } catch {
        // one failing hook must not keep the others (or the log line) from running
      }
    }
    this.#hooks = [];
    this.#log(this);
  }
}
