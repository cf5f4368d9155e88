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

/** The index just past the blank line that ends a head in `buffer[0, length)`, or -1. */
export function headEnd(buffer: Uint8Array, length: number, from = 0): number {
  for (let i = Math.max(3, from); i < length; i++) {
    if (
      buffer[i] === 10 && buffer[i - 1] === 13 && buffer[i - 2] === 10 && buffer[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const decoder = new TextDecoder("latin1");

/**
 * Parses a response head (the bytes up to and including its blank line) for a request made
 * with `method`.
 *
 * @throws {MalformedResponse} when the head breaks HTTP/1.1's rules
 */
export function parseHead(bytes: Uint8Array, method: string): ResponseHead {
  const lines = decoder.decode(bytes).split("\r\n");
  const statusLine = STATUS_LINE.exec(lines[0]);
  if (!statusLine) throw new MalformedResponse("bad status line");
  const minor = statusLine[1];
  const status = Number(statusLine[2]);
  const headers: [string, string][] = [];
  let length: number | undefined;
  let chunked = false;
  let transferEncoding = false;
  let connection = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new MalformedResponse("bad header line");
    const lower = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (lower === "content-length") {
      if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) {
        throw new MalformedResponse("bad content-length");
      }
      length = Number(value);
    } else if (lower === "transfer-encoding") {
      transferEncoding = true;
      const codings = value.toLowerCase().split(",").map((c) => c.trim());
      chunked = codings[codings.length - 1] === "chunked";
    } else if (lower === "connection") {
      connection += "," + value.toLowerCase();
    }
    headers.push([lower, value]);
  }
  let keepAlive = minor === "1"
    ? !/(^|,)\s*close\s*(,|$)/.test(connection)
    : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  let framing: Framing;
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    framing = { kind: "none" };
  } else if (transferEncoding) {
    // A length next to a transfer coding is a smuggling vector: trust neither for reuse.
    if (length !== undefined) keepAlive = false;
    framing = chunked ? { kind: "chunked" } : { kind: "close" };
    if (!chunked) keepAlive = false;
  } else if (length !== undefined) {
    framing = length === 0 ? { kind: "none" } : { kind: "length", length };
  } else {
    framing = { kind: "close" };
    keepAlive = false;
  }
  return { status, statusText: statusLine[3] ?? "", headers, framing, keepAlive };
}
