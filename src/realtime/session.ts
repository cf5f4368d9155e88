/**
 * One realtime session: the relay between a client's socket and the upstream's, frame by
 * frame, in order, both ways, with what the route asks of it on the way.
 *
 * - Client to upstream: each frame is counted against `limits.body` (1009 past it). On a route
 *   with frame rules, every frame must be a JSON object (text, or binary that holds JSON: the
 *   Gemini service reads both) and is read by the rules; it goes upstream re-serialised, so
 *   a frame cannot mean one thing to the gateway and another to the provider (duplicate keys).
 *   A frame the rules refuse gets an `error` event (OpenAI's shape; Gemini has none) and the
 *   session closes with 1008.
 * - Upstream to client: frames go as they came, the key replaced wherever it appears (text or
 *   bytes, close reasons too), and the events that carry usage are read by the meter; each
 *   response's usage is charged as it is reported, and a session whose budget is then spent
 *   gets an `error` event and 1008.
 * - Bounds: a client that does not read while its upstream talks makes the session stop
 *   reading the upstream (the provider's frames wait in its own buffers), and closes it if it
 *   stays behind; an upstream that does not read closes it too. Memory per session stays
 *   within {@linkcode MAX_BUFFERED} each way, plus one frame.
 * - Ends: either side closing closes the other at once (codes and reasons passed, mapped to
 *   what the other side may send); `limits.session` and a silence both ways for
 *   `limits.timeout` end it from the gateway. The end is reported once, when the gateway
 *   decides it, not when the last close handshake completes (a client that stopped reading
 *   may never complete it).
 *
 * @module
 */
import { indexOfBytes, utf8Length } from "../bytes.ts";
import type { SocketProtocol } from "../config/presets/preset.ts";
import type { SessionLog } from "../session_log.ts";
import type { OutcomeCode } from "../outcome.ts";
import { platform } from "../platform/mod.ts";
import { type Needles, redactBytes, redactText } from "../proxy/redact.ts";
import type { Charge, Usage } from "../usage/meter.ts";
import type { ClientEvents, ClientLink } from "./accept.ts";
import type { SessionMeter } from "./meter.ts";
import type { FrameContext, FrameRefusal, FrameRules } from "./rules.ts";
import type { UpstreamEvents, UpstreamLink } from "./upstream.ts";
import { type Json, object } from "../budget/tally.ts";

/** Bytes queued towards one side before the session stops reading the other (or closes). */
export const HIGH_WATER = 1024 * 1024;
/** Bytes queued towards one side past which the session closes. */
export const MAX_BUFFERED = 4 * 1024 * 1024;
/**
 * How long a client may stay past the high-water mark while the upstream is paused (or
 * `limits.timeout`, when shorter).
 */
export const BEHIND_MS = 10_000;
/** How often the sessions' clock checks idle times and session limits. */
const TICK_MS = 250;
/** How often a paused session looks whether its client caught up. */
const DRAIN_POLL_MS = 20;
/** A close reason is at most this many bytes (RFC 6455: 125 for the whole payload). */
const REASON_BYTES = 123;
/** The id of the gateway's own `session.update` (the output clamp). */
export const CLAMP_EVENT_ID = "event_keyward_clamp";

/** Who ended a session. */
export type ClosedBy = SessionLog["closed_by"];

/** What one session did, for its log line. */
export type SessionRecord = SessionLog;

/** How a session ended, handed to whoever started it. */
export interface SessionEnd {
  /** What it did. */
  record: SessionRecord;
  /** Bytes from the client. */
  bytesIn: number;
  /** Bytes to the client. */
  bytesOut: number;
  /** The usage to charge, summed over its responses. */
  charge?: Charge;
  /** What went wrong, when the gateway ended it (or a side broke off). */
  outcome?: OutcomeCode;
  /** Free text about the outcome. */
  detail?: string;
}

/** Charges each response's usage to the budgets a session falls under. */
export interface SessionCharger {
  /** Charges `usage` of `model`: the budget it spent, if it spent one. */
  charge(usage: Usage, model: string | undefined): Promise<"tokens" | "spend" | undefined>;
}

/** What a session is made of. */
export interface SessionSettings {
  /** The protocol it speaks. */
  readonly protocol: SocketProtocol;
  /** The session as the frame rules see it (its model, the token's claims, prices). */
  readonly context: FrameContext;
  /** The route's frame rules; without them, client frames are relayed unread. */
  readonly rules?: FrameRules;
  /** Reads usage from the upstream's events; without it, they are not read. */
  readonly meter?: SessionMeter;
  /** Where usage is charged, on a route with budgets. */
  readonly charger?: SessionCharger;
  /** The key's spellings, replaced in whatever the upstream sends. */
  readonly needles?: Needles;
  /** The largest frame a client may send, in bytes. */
  readonly maxFrame: number;
  /** The longest the session may last, in ms (`limits.session`). */
  readonly sessionMs?: number;
  /** The longest it may be silent both ways, in ms (`limits.timeout`). */
  readonly idleMs: number;
  /** Whether to send the output clamp as the session's own maximum when it opens (OpenAI). */
  readonly clampSession: boolean;
  /** Called once, when the session has ended. */
  readonly onEnd: (end: SessionEnd) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/**
 * At most 123 bytes of `reason` (what a close frame holds), not cutting a character.
 *
 * @example
 * ```ts
 * import { shortReason } from "./session.ts";
 *
 * if (shortReason("é".repeat(100)) !== "é".repeat(61)) throw new Error("cut mid-character");
 * ```
 */
export function shortReason(reason: string): string {
  if (utf8Length(reason) <= REASON_BYTES) return reason;
  const cut = decoder.decode(encoder.encode(reason).subarray(0, REASON_BYTES));
  return cut.replace(/\uFFFD+$/, "");
}

/**
 * A close code the upstream sent, as the client may receive it: "no code" (1005) is a normal
 * close, an abnormal end (1006, 1015) an internal error (1011); the rest pass as they are.
 *
 * @example
 * ```ts
 * import { clientCode } from "./session.ts";
 *
 * if (clientCode(1006) !== 1011 || clientCode(4000) !== 4000) throw new Error("mapped wrong");
 * ```
 */
export function clientCode(code: number): number {
  if (code === 1005) return 1000;
  if (code === 1006 || code === 1015 || code < 1000 || code === 1004) return 1011;
  return code;
}

/** Whether `bytes` start (after JSON whitespace or a byte order mark) with `{`. */
function holdsJson(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length && i < 64; i++) {
    const b = bytes[i];
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    if (i === 0 && b === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      i += 2;
      continue;
    }
    return b === 0x7b;
  }
  return false;
}

const GEMINI_MARKS = ["usageMetadata", "turnComplete", "interrupted"].map((mark) =>
  encoder.encode(`"${mark}"`)
);
const GEMINI_TURN = encoder.encode('"modelTurn"');

/** Every session open in this process, checked by one clock. */
const open = new Set<Session>();
let clock: ReturnType<typeof setInterval> | undefined;

function track(session: Session): void {
  open.add(session);
  if (clock !== undefined) return;
  clock = setInterval(() => {
    const now = performance.now();
    for (const live of open) live.tick(now);
  }, TICK_MS);
  platform.unrefTimer(clock);
}

function untrack(session: Session): void {
  open.delete(session);
  if (open.size === 0 && clock !== undefined) {
    clearInterval(clock);
    clock = undefined;
  }
}

/**
 * A session between a client link and an upstream link.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ClientEvents } from "./accept.ts";
 * import { Session, type SessionEnd } from "./session.ts";
 * import type { UpstreamEvents } from "./upstream.ts";
 *
 * // two ends that record what they are sent
 * const toClient: (string | Uint8Array)[] = [];
 * const toUpstream: (string | Uint8Array)[] = [];
 * const ends: { client?: ClientEvents; upstream?: UpstreamEvents } = {};
 * const ended = Promise.withResolvers<SessionEnd>();
 * const session = new Session({
 *   protocol: "openai",
 *   context: { protocol: "openai", beta: false },
 *   needles: { text: ["sk-live"], bytes: [new TextEncoder().encode("sk-live")] },
 *   maxFrame: 1 << 20,
 *   idleMs: 60_000,
 *   clampSession: false,
 *   onEnd: ended.resolve,
 * }, {
 *   protocol: "realtime",
 *   send: (data) => void toUpstream.push(data),
 *   close: () => {},
 *   buffered: () => 0,
 *   attach: (events) => ends.upstream = events,
 * }, {
 *   send: (data) => void toClient.push(data),
 *   close: () => {},
 *   buffered: () => 0,
 *   attach: (events) => ends.client = events,
 * });
 * session.start();
 * ends.client!.message('{"type":"response.create"}');
 * ends.upstream!.message('{"type":"error","error":{"message":"bad key sk-live"}}');
 * assert.deepEqual(toUpstream, ['{"type":"response.create"}']);
 * assert.deepEqual(toClient, ['{"type":"error","error":{"message":"bad key [redacted]"}}']);
 * ends.client!.closed(1000, "bye");
 * assert.equal((await ended.promise).record.closed_by, "client");
 * ```
 */
export class Session {
  readonly #settings: SessionSettings;
  readonly #upstream: UpstreamLink;
  readonly #client: ClientLink;
  readonly #start = performance.now();
  #last = this.#start;
  #ended = false;
  #paused = false;
  #behindSince = 0;
  #swallowUpdated = false;
  #framesIn = 0;
  #framesOut = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #responses = 0;
  #usage?: Usage;
  #estimated = false;
  #charging: Promise<unknown> = Promise.resolve();

  /** A session over `upstream` and `client`; nothing flows until {@linkcode start}. */
  constructor(settings: SessionSettings, upstream: UpstreamLink, client: ClientLink) {
    this.#settings = settings;
    this.#upstream = upstream;
    this.#client = client;
  }

  /** Starts relaying (frames that came before are relayed first). */
  start(): void {
    track(this);
    const upstream: UpstreamEvents = {
      message: (data) => this.#fromUpstream(data),
      closed: (code, reason) => this.#upstreamClosed(code, reason),
    };
    const client: ClientEvents = {
      message: (data) => this.#fromClient(data),
      closed: (code, reason) => this.#clientClosed(code, reason),
    };
    this.#client.attach(client);
    this.#upstream.attach(upstream);
  }

  /** Whether the session has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the session from the gateway (server shutdown: 1001). */
  close(code: number, reason: string, outcome?: OutcomeCode): void {
    this.#end("gateway", code, reason, outcome);
  }

  /** The clock: session limit and idle time. */
  tick(now: number): void {
    const { sessionMs, idleMs } = this.#settings;
    if (sessionMs !== undefined && now - this.#start >= sessionMs) {
      this.#end("gateway", 1008, "session time limit reached", "session_time");
    } else if (!this.#paused && now - this.#last >= idleMs) {
      // (A paused session is not silent: its client is behind, which `#keepUp` times.)
      this.#end("gateway", 1000, "idle timeout", "session_idle");
    }
  }

  // ---- client to upstream ---------------------------------------------------------------

  #fromClient(data: string | Uint8Array): void {
    if (this.#ended) return;
    this.#last = performance.now();
    const size = typeof data === "string" ? utf8Length(data) : data.byteLength;
    this.#framesIn++;
    this.#bytesIn += size;
    const settings = this.#settings;
    if (size > settings.maxFrame) {
      return this.#end("gateway", 1009, "frame too large", "frame_too_large", `${size} bytes`);
    }
    let out = data;
    if (settings.rules) {
      const ruled = this.#rule(data, settings.rules);
      if (ruled === undefined) return;
      out = ruled;
    }
    this.#upstream.send(out);
    if (this.#upstream.buffered() > MAX_BUFFERED) {
      this.#end("gateway", 1013, "upstream cannot keep up", "upstream_slow");
    }
  }

  /** Applies the frame rules: the frame to send, or undefined when it was refused. */
  #rule(data: string | Uint8Array, rules: FrameRules): string | Uint8Array | undefined {
    let frame: unknown;
    const text = typeof data === "string" ? data : holdsJson(data) ? decoder.decode(data) : "";
    try {
      frame = text ? JSON.parse(text) : undefined;
    } catch {
      frame = undefined;
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      this.#refuse({ code: "invalid_frame", message: "Each frame must be a JSON object" });
      return undefined;
    }
    const verdict = rules.check(frame as Json, this.#settings.context);
    if (typeof verdict === "object") {
      this.#refuse(verdict, (frame as Json).event_id);
      return undefined;
    }
    const out = JSON.stringify(frame);
    return typeof data === "string" ? out : encoder.encode(out);
  }

  /** A refused frame: an `error` event (OpenAI), then 1008. */
  #refuse(
    refusal: FrameRefusal,
    eventId?: unknown,
    outcome: OutcomeCode = "frame_refused",
  ): void {
    if (this.#settings.protocol === "openai") {
      this.#send(JSON.stringify({
        type: "error",
        event_id: `event_keyward_${crypto.randomUUID().slice(0, 8)}`,
        error: {
          type: "invalid_request_error",
          code: refusal.code,
          message: refusal.message,
          param: refusal.param ?? null,
          event_id: typeof eventId === "string" ? eventId : null,
        },
      }));
    }
    const reason = this.#settings.protocol === "openai" ? refusal.code : refusal.message;
    this.#end("gateway", 1008, reason, outcome, refusal.message);
  }

  // ---- upstream to client ---------------------------------------------------------------

  #fromUpstream(data: string | Uint8Array): void {
    if (this.#ended) return;
    this.#last = performance.now();
    const settings = this.#settings;
    const needles = settings.needles;
    let out = data;
    if (needles) {
      out = typeof data === "string" ? redactText(data, needles) : redactBytes(data, needles);
    }
    if (settings.protocol === "openai") {
      if (typeof out === "string" && this.#openaiEvent(out)) return;
    } else if (settings.meter) this.#geminiMessage(out);
    this.#send(out);
    this.#keepUp();
  }

  /** Reads the OpenAI events that matter here; true when the event is not for the client. */
  #openaiEvent(text: string): boolean {
    // The service writes `type` first: only the events the gateway reads are parsed.
    const head = text.slice(0, 96);
    const settings = this.#settings;
    if (head.includes('"response.')) {
      if (!settings.meter) return false;
      if (!head.includes('"response.done"') && !head.includes('"response.created"')) return false;
      const usage = settings.meter.read(parse(text) ?? {});
      if (usage) this.#charge(usage, false);
      return false;
    }
    if (head.includes('"session.created"') && settings.clampSession && settings.rules) {
      const event = parse(text);
      const session = event?.session as Json | undefined;
      if (session?.type !== "transcription") {
        const update = settings.rules.sessionClamp(settings.context.beta, CLAMP_EVENT_ID);
        if (update) {
          // Sent before the client sees the session, so it is the first update answered.
          this.#upstream.send(update);
          this.#swallowUpdated = true;
        }
      }
      return false;
    }
    if (this.#swallowUpdated) {
      if (head.includes('"session.updated"')) {
        this.#swallowUpdated = false;
        return true;
      }
      if (head.includes('"error"')) {
        const error = parse(text)?.error as Json | undefined;
        if (error?.event_id === CLAMP_EVENT_ID) {
          // The upstream would not take the clamp; each response.create still carries it.
          this.#swallowUpdated = false;
          return true;
        }
      }
    }
    return false;
  }

  /** Feeds the meter the Gemini messages that may carry usage (binary frames, mostly). */
  #geminiMessage(data: string | Uint8Array): void {
    const meter = this.#settings.meter!;
    if (typeof data === "string") data = encoder.encode(data);
    const marked = GEMINI_MARKS.some((mark) => indexOfBytes(data as Uint8Array, mark, 0) !== -1);
    if (!marked && (meter.running || indexOfBytes(data, GEMINI_TURN, 0) === -1)) return;
    const message = parse(decoder.decode(data));
    if (!message) return;
    const usage = meter.read(message);
    if (usage) this.#charge(usage, false);
  }

  #send(data: string | Uint8Array): void {
    this.#framesOut++;
    this.#bytesOut += typeof data === "string" ? utf8Length(data) : data.byteLength;
    this.#client.send(data);
  }

  /** Backpressure towards the client: pause the upstream past the high-water mark. */
  #keepUp(): void {
    const buffered = this.#client.buffered();
    if (buffered <= HIGH_WATER) return;
    if (buffered > MAX_BUFFERED) {
      return this.#end("gateway", 1008, "client cannot keep up", "client_slow");
    }
    const upstream = this.#upstream;
    if (this.#paused || !upstream.pause) return;
    this.#paused = true;
    this.#behindSince = performance.now();
    upstream.pause();
    const poll = () => {
      if (this.#ended) return;
      if (this.#client.buffered() <= HIGH_WATER / 2) {
        this.#paused = false;
        upstream.resume?.();
        return;
      }
      const allowed = Math.min(BEHIND_MS, this.#settings.idleMs);
      if (performance.now() - this.#behindSince > allowed) {
        return this.#end("gateway", 1008, "client cannot keep up", "client_slow");
      }
      setTimeout(poll, DRAIN_POLL_MS);
    };
    setTimeout(poll, DRAIN_POLL_MS);
  }

  // ---- usage ----------------------------------------------------------------------------

  /** Adds one response's usage, and charges it; a spent budget ends the session. */
  #charge(usage: Usage, estimated: boolean): void {
    this.#responses++;
    const sum = this.#usage;
    this.#usage = sum
      ? {
        input: sum.input + usage.input,
        output: sum.output + usage.output,
        total: sum.total + usage.total,
      }
      : { input: usage.input, output: usage.output, total: usage.total };
    if (estimated) this.#estimated = true;
    const charger = this.#settings.charger;
    if (!charger) return;
    const model = this.#settings.context.model;
    this.#charging = this.#charging.then(() => charger.charge(usage, model)).then((spent) => {
      if (!spent || this.#ended) return;
      const message = spent === "tokens"
        ? "The token budget is spent: this session is closed"
        : "The spend budget is spent: this session is closed";
      this.#refuse(
        { code: "budget_spent", message },
        undefined,
        spent === "tokens" ? "token_budget" : "spend_budget",
      );
    }, () => {
      if (this.#ended) return;
      this.#end("gateway", 1011, "budget store unavailable", "store_unavailable");
    });
  }

  // ---- ends -----------------------------------------------------------------------------

  #clientClosed(code: number, reason: string): void {
    this.#end("client", code, reason);
  }

  #upstreamClosed(code: number, reason: string): void {
    const needles = this.#settings.needles;
    // A reason that holds the key is dropped whole.
    const safe = needles && redactText(reason, needles) !== reason ? "" : reason;
    const outcome = code === 1006 ? "upstream_broken" : undefined;
    this.#end("upstream", code, safe, outcome);
  }

  #end(
    by: ClosedBy,
    code: number,
    reason: string,
    outcome?: OutcomeCode,
    detail?: string,
  ): void {
    if (this.#ended) return;
    this.#ended = true;
    untrack(this);
    const record: SessionRecord = {
      frames_in: this.#framesIn,
      frames_out: this.#framesOut,
      responses: this.#responses,
      closed_by: by,
      model: this.#settings.context.model,
    };
    reason = shortReason(reason);
    if (by === "client") {
      record.close_client = code;
      // A client that went without a close frame went away.
      const upstream = code === 1005 ? 1000 : code === 1006 ? 1001 : code;
      record.close_upstream = upstream;
      safely(() => this.#upstream.close(upstream, reason));
    } else if (by === "upstream") {
      record.close_upstream = code;
      record.close_client = clientCode(code);
      safely(() => this.#client.close(record.close_client!, reason));
    } else {
      record.close_client = code;
      record.close_upstream = code;
      safely(() => this.#client.close(code, reason));
      safely(() => this.#upstream.close(code, reason));
    }
    if (this.#paused) this.#upstream.resume?.();
    const left = this.#settings.meter?.end();
    if (left) this.#charge(left.usage, left.estimated);
    const usage = this.#usage;
    void this.#charging.finally(() =>
      this.#settings.onEnd({
        record,
        bytesIn: this.#bytesIn,
        bytesOut: this.#bytesOut,
        charge: usage ? { usage, estimated: this.#estimated } : undefined,
        outcome,
        detail,
      })
    );
  }
}

function parse(text: string): Json | undefined {
  try {
    return object(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the socket is closed already
  }
}
