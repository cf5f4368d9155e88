/**
 * One JSON log line per request. The record holds names, numbers and paths only: keys are
 * {@linkcode Secret}s and never enter it, query strings (which may carry keys) are left out.
 *
 * @module
 */

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
  /** Upstream-reported tokens. */
  tokens?: { input: number; output: number; total: number };
  /** What went wrong, for gateway errors (never a key). */
  error?: string;
  /** True when the client hung up before the response ended. */
  aborted?: boolean;
  /** Set when the request was sent again on another key of the pool. */
  retried?: boolean;
}

/** Receives finished request records. */
export type LogSink = (record: RequestRecord) => void;

const encoder = new TextEncoder();

function writeLine(file: { writeSync(p: Uint8Array): number }, line: string) {
  let bytes = encoder.encode(line + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** Writes each record as one JSON line on standard output. */
export const stdoutSink: LogSink = (record) => {
  writeLine(Deno.stdout, JSON.stringify(record));
};

/** Drops records (for libraries and tests that log elsewhere). */
export const silentSink: LogSink = () => {};

/** Logs a gateway event that is not a request (startup, reload, errors) as one JSON line. */
export function logEvent(event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ time: new Date().toISOString(), event, ...fields });
  writeLine(Deno.stderr, line);
}
