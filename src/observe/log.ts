/**
 * One JSON log line per request. The record holds names, numbers and paths only: keys are
 * {@linkcode Secret}s and never enter it, query strings (which may carry keys) are left out.
 *
 * @module
 */
import type { OutcomeCode } from "../outcome.ts";
import { platform } from "../platform/mod.ts";
import type { SessionLog } from "../session_log.ts";

/** What one request did, as logged when it (and its response stream) ends. */
export interface RequestRecord {
  /** ISO time the request arrived. */
  time: string;
  /** Request id (also sent back as `x-request-id`). */
  id: string;
  /** Route name, when one matched. */
  route?: string;
  /** Client id: IP, token client, JWT `sub` or forward-auth name. */
  client?: string;
  /** Request method. */
  method: string;
  /** Request path without query string. */
  path: string;
  /** Upstream host and path in target mode. */
  target?: string;
  /** Status sent to the client. */
  status: number;
  /** Milliseconds from arrival to the end of the response body. */
  duration_ms: number;
  /** Milliseconds from sending upstream to its response headers. */
  ttfb_ms?: number;
  /** Request body bytes sent upstream. */
  bytes_in?: number;
  /** Response body bytes sent to the client. */
  bytes_out?: number;
  /** Upstream-reported tokens (or the gateway's estimate, see `tokens_estimated`). */
  tokens?: { input: number; output: number; total: number };
  /**
   * True when `tokens` is the gateway's conservative estimate: the answer ended (cut, broken
   * off, or a stream without usage) before the upstream reported its usage.
   */
  tokens_estimated?: boolean;
  /** What the request cost in USD, on a route that counts dollars. */
  cost_usd?: number;
  /** What went wrong, as an outcome code (see `outcome.ts`), when something did. */
  error?: OutcomeCode;
  /** Free text about the outcome (never a key or a token). */
  detail?: string;
  /** True when the client hung up before the response ended. */
  aborted?: boolean;
  /** Set when the request was sent again on another key of the pool. */
  retried?: boolean;
  /** What a WebSocket session did (an upgrade's line is written when the session ends). */
  session?: SessionLog;
}

/** Receives finished request records. */
export type LogSink = (record: RequestRecord) => void;

/** Lines are written at most this long after their request ended. */
const FLUSH_MS = 10;
/** A batch this large is written at once. */
const FLUSH_CHARS = 32 * 1024;
let pending = "";
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let flushOnExit = false;

/** Writes the request lines not yet written (they are batched: one write per few ms). */
export function flushStdout(): void {
  if (flushTimer !== undefined) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (!pending) return;
  const text = pending;
  pending = "";
  platform.writeStdout(text);
}

/**
 * Writes each record as one JSON line on standard output. Lines are batched into one write
 * every few milliseconds (and on exit): a write per request costs more than the request. On
 * edge runtimes, where nothing may run after a response, each line is written at once.
 */
export const stdoutSink: LogSink = (record) => {
  if (!platform.batchOutput) return platform.writeStdout(JSON.stringify(record) + "\n");
  pending += JSON.stringify(record) + "\n";
  if (pending.length >= FLUSH_CHARS) return flushStdout();
  if (flushTimer !== undefined) return;
  flushTimer = setTimeout(flushStdout, FLUSH_MS);
  platform.unrefTimer(flushTimer);
  if (!flushOnExit) {
    flushOnExit = true;
    platform.onExit(flushStdout);
  }
};

let isoMs = NaN;
let iso = "";

/**
 * The current time as an ISO string, formatted at most once per millisecond (requests that
 * arrive in the same millisecond share the string).
 */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

/** Drops records (for libraries and tests that log elsewhere). */
export const silentSink: LogSink = () => {};

/** Logs a gateway event that is not a request (startup, reload, errors) as one JSON line. */
export function logEvent(event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ time: isoNow(), event, ...fields });
  platform.writeStderr(line + "\n");
}
