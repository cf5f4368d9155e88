/**
 * HTTP/1.1 response heads: where one ends in a buffer, and what it says (status, headers, and
 * how its body is framed). Strict: a malformed head is an error, never a guess, because a
 * misread frame on a kept-alive connection would hand one response's bytes to the next.
 *
 * @module
 */

/** The most a response head may take. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** How a response body is delimited. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** A parsed response head. */
export interface ResponseHead {
  /** Status code. */
  status: number;
  /** Reason phrase. */
  statusText: string;
  /** Header lines in order, names lower-cased. */
  headers: [string, string][];
  /** How the body is delimited. */
  framing: Framing;
  /** Whether the connection may carry another request after this response. */
  keepAlive: boolean;
}

/** A response the client cannot read safely. */
export class MalformedResponse extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedResponse";
  }
}

/**
 * The index just past the blank line that ends a head in `buffer[start, end)`, or -1 when
 * it has not all arrived; the scan resumes at `from`. Every line must end in CRLF.
 *
 * @throws {MalformedResponse} on a bare LF or CR: a parser that took it as a line end would
 * frame the message differently from one that does not, so neither reading can be trusted.
 */
export function headEnd(buffer: Uint8Array, start: number, end: number, from = start): number {
  for (let i = Math.max(from, start); i < end; i++) {
    const byte = buffer[i];
    if (byte === 10) {
      if (i === start || buffer[i - 1] !== 13) throw new MalformedResponse("bare LF in the head");
      if (i - 3 >= start && buffer[i - 2] === 10 && buffer[i - 3] === 13) return i + 1;
    } else if (byte === 13 && i + 1 < end && buffer[i + 1] !== 10) {
      throw new MalformedResponse("bare CR in the head");
    }
  }
  return -1;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIGITS = /^\d+$/;
const CLOSE = /(^|,)\s*close\s*(,|$)/;
const decoder = new TextDecoder("latin1");

/**
 * Parses a response head (the bytes up to and including its blank line) for a request made
 * with `method`. As strict as nginx with its upstreams: a length that is not one exact safe
 * integer, a second length, a transfer coding other than `chunked` alone, a length and a
 * transfer coding together, `Transfer-Encoding` in an HTTP/1.0 answer, a folded or nameless
 * line, a NUL: each is refused, never guessed at, because a misread frame on a kept-alive
 * connection would hand one response's bytes to the next request.
 *
 * @throws {MalformedResponse} when the head breaks HTTP/1.1's rules
 */
export function parseHead(bytes: Uint8Array, method: string): ResponseHead {
  const text = decoder.decode(bytes);
  if (text.includes("\0")) throw new MalformedResponse("NUL in the head");
  const lines = text.split("\r\n");
  const statusLine = STATUS_LINE.exec(lines[0]);
  if (!statusLine) throw new MalformedResponse("bad status line");
  const minor = statusLine[1];
  const status = Number(statusLine[2]);
  if (status < 100 || status > 599) throw new MalformedResponse("bad status code");
  const headers: [string, string][] = [];
  let length: number | undefined;
  let chunked = false;
  let connection = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    // A line folded onto the one before (obs-fold) starts with whitespace: not a token.
    if (!TOKEN.test(name)) throw new MalformedResponse("bad header line");
    const lower = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (lower === "content-length") {
      if (length !== undefined) throw new MalformedResponse("more than one content-length");
      length = DIGITS.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(length)) throw new MalformedResponse("bad content-length");
    } else if (lower === "transfer-encoding") {
      if (chunked) throw new MalformedResponse("more than one transfer-encoding");
      // Only chunked alone frames a body this client can read; nginx refuses the rest too.
      if (value.toLowerCase() !== "chunked") {
        throw new MalformedResponse("unsupported transfer-encoding");
      }
      // RFC 9112 6.1: a transfer coding in an HTTP/1.0 message is faulty framing. nginx's
      // strict answer: refuse the response and close, rather than guess how it ends.
      if (minor === "0") throw new MalformedResponse("transfer-encoding in an HTTP/1.0 answer");
      chunked = true;
    } else if (lower === "connection") {
      connection += "," + value.toLowerCase();
    }
    headers.push([lower, value]);
  }
  // A length next to a transfer coding is how responses get split: refused, as nginx does.
  if (chunked && length !== undefined) {
    throw new MalformedResponse("content-length and transfer-encoding together");
  }
  // HTTP/1.0 connections are never reused (as nginx), whatever keep-alive they announce.
  let keepAlive = minor === "1" && !CLOSE.test(connection);
  let framing: Framing;
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    framing = { kind: "none" };
  } else if (chunked) {
    framing = { kind: "chunked" };
  } else if (length !== undefined) {
    framing = length === 0 ? { kind: "none" } : { kind: "length", length };
  } else {
    framing = { kind: "close" };
    keepAlive = false;
  }
  return { status, statusText: statusLine[3] ?? "", headers, framing, keepAlive };
}
