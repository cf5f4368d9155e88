/**
 * Response bodies read off a connection by their framing: a known length, chunked transfer
 * coding, or until the connection closes. Each reader yields the body's bytes and reports
 * whether it stopped exactly at the body's end (only then may the connection be reused).
 *
 * @module
 */
import type { Http1Connection } from "./connection.ts";
import { MalformedResponse } from "./head.ts";

/** Reads one response body; `next()` resolves to a chunk, or null at the end. */
export interface BodyReader {
  /** The next chunk of the body, or null once it has all been read. */
  next(): Promise<Uint8Array | null>;
}

const READ_SIZE = 64 * 1024;
/** The longest chunk-size line (with extensions) accepted. */
const MAX_LINE = 4096;

/** A body of `length` bytes. */
export function lengthReader(conn: Http1Connection, length: number): BodyReader {
  let left = length;
  return {
    async next() {
      if (left === 0) return null;
      if (conn.end > conn.start) {
        const chunk = conn.take(Math.min(left, conn.end - conn.start));
        left -= chunk.byteLength;
        return chunk;
      }
      const chunk = await conn.readFresh(Math.min(left, READ_SIZE));
      if (chunk === null) throw new MalformedResponse("connection closed mid-body");
      left -= chunk.byteLength;
      return chunk;
    },
  };
}

/** A body that ends when the server closes the connection. */
export function closeReader(conn: Http1Connection): BodyReader {
  return {
    async next() {
      if (conn.end > conn.start) return conn.take(conn.end - conn.start);
      return await conn.readFresh(READ_SIZE);
    },
  };
}

const decoder = new TextDecoder("latin1");

/** The next CRLF-terminated line, reading more as needed. */
async function line(conn: Http1Connection): Promise<string> {
  for (;;) {
    for (let i = conn.start + 1; i < conn.end; i++) {
      if (conn.buffer[i] === 10 && conn.buffer[i - 1] === 13) {
        const text = decoder.decode(conn.buffer.subarray(conn.start, i - 1));
        conn.start = i + 1;
        if (conn.start === conn.end) conn.start = conn.end = 0;
        return text;
      }
    }
    if (conn.end - conn.start > MAX_LINE) throw new MalformedResponse("chunk line too long");
    if (!(await conn.fill(MAX_LINE * 4))) throw new MalformedResponse("connection closed mid-body");
  }
}

/**
 * A chunk-size line: hex digits (a dozen at most past leading zeros, so that the size is an
 * exact integer), then extensions, which are ignored. No sign, no `0x`, no stray CR or LF.
 */
const CHUNK_SIZE = /^0*([0-9a-fA-F]{1,12})(?:[ \t]*;[\t\x20-\x7e\x80-\xff]*)?$/;
/** A trailer field line. */
const TRAILER = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;
/** The most trailer bytes accepted after a chunked body. */
const MAX_TRAILERS = 16 * 1024;

/** The size a chunk-size line declares. */
function chunkSize(text: string): number {
  const size = CHUNK_SIZE.exec(text);
  if (!size) throw new MalformedResponse("bad chunk size");
  return parseInt(size[1], 16);
}

/** Checks one trailer line, adding its size to `seen`; returns the new total. */
function trailer(text: string, seen: number): number {
  if (!TRAILER.test(text)) throw new MalformedResponse("bad trailer line");
  seen += text.length + 2;
  if (seen > MAX_TRAILERS) throw new MalformedResponse("trailers too large");
  return seen;
}

/** A chunked body: sizes, data and CRLFs, then optional trailers up to a blank line. */
export function chunkedReader(conn: Http1Connection): BodyReader {
  let left = 0; // bytes of the current chunk still to read
  let crlf = false; // the CRLF after a chunk's data is still to be read
  let done = false;
  return {
    async next() {
      if (done) return null;
      if (crlf) {
        // Read lazily, so a chunk is handed on without waiting for its trailing CRLF.
        if ((await line(conn)) !== "") throw new MalformedResponse("bad chunk end");
        crlf = false;
      }
      if (left === 0) {
        left = chunkSize(await line(conn));
        if (left === 0) {
          // trailers, if any, up to the blank line that ends the message
          let seen = 0;
          for (let text = await line(conn); text !== ""; text = await line(conn)) {
            seen = trailer(text, seen);
          }
          done = true;
          return null;
        }
      }
      if (conn.end === conn.start && !(await conn.fill(READ_SIZE))) {
        throw new MalformedResponse("connection closed mid-body");
      }
      const chunk = conn.take(Math.min(left, conn.end - conn.start));
      left -= chunk.byteLength;
      if (left === 0) crlf = true;
      return chunk;
    },
  };
}

/** Where a buffered chunked message ends, and how many data bytes it carries. */
interface Walked {
  end: number;
  size: number;
}

/**
 * Walks the chunked body buffered at `buffer[start, end)`: where the message ends and its
 * data size, or undefined when it has not all arrived; copies the data into `out` when given.
 */
function walkChunked(
  buffer: Uint8Array,
  start: number,
  end: number,
  out?: Uint8Array,
): Walked | undefined {
  let at = start;
  let written = 0;
  let seen = -1; // trailer bytes, once the last chunk is reached
  for (;;) {
    let eol = -1;
    for (let i = at + 1; i < end; i++) {
      if (buffer[i] === 10 && buffer[i - 1] === 13) {
        eol = i - 1;
        break;
      }
    }
    if (eol === -1) {
      if (end - at > MAX_LINE) throw new MalformedResponse("chunk line too long");
      return undefined;
    }
    const text = decoder.decode(buffer.subarray(at, eol));
    at = eol + 2;
    if (seen >= 0) {
      if (text === "") return { end: at, size: written };
      seen = trailer(text, seen);
      continue;
    }
    const size = chunkSize(text);
    if (size === 0) {
      seen = 0;
      continue;
    }
    if (end - at < size + 2) return undefined;
    if (buffer[at + size] !== 13 || buffer[at + size + 1] !== 10) {
      throw new MalformedResponse("bad chunk end");
    }
    out?.set(buffer.subarray(at, at + size), written);
    written += size;
    at += size + 2;
  }
}

/**
 * The chunked body already buffered whole, decoded (a small chunked answer usually comes
 * with its head), or undefined when it has not all arrived and must be streamed. Reading
 * what is there first also refuses a broken framing before the response is answered.
 *
 * @throws {MalformedResponse} when the buffered bytes break the chunked framing
 */
export function bufferedChunked(conn: Http1Connection): Uint8Array<ArrayBuffer> | undefined {
  const { buffer, start } = conn;
  const walked = walkChunked(buffer, start, conn.end);
  if (!walked) return undefined;
  // Known whole and sound: a second walk copies the data out.
  const out = new Uint8Array(walked.size);
  walkChunked(buffer, start, walked.end, out);
  conn.start = walked.end;
  if (conn.start === conn.end) conn.start = conn.end = 0;
  return out;
}
