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

/** The next CRLF-terminated line, reading more as needed. */
async function line(conn: Http1Connection): Promise<string> {
  for (;;) {
    for (let i = conn.start + 1; i < conn.end; i++) {
      if (conn.buffer[i] === 10 && conn.buffer[i - 1] === 13) {
        const text = new TextDecoder().decode(conn.buffer.subarray(conn.start, i - 1));
        conn.start = i + 1;
        if (conn.start === conn.end) conn.start = conn.end = 0;
        return text;
      }
    }
    if (conn.end - conn.start > MAX_LINE) throw new MalformedResponse("chunk line too long");
    if (!(await conn.fill(MAX_LINE * 4))) throw new MalformedResponse("connection closed mid-body");
  }
}

const CHUNK_SIZE = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/;

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
        const size = CHUNK_SIZE.exec(await line(conn));
        if (!size) throw new MalformedResponse("bad chunk size");
        left = parseInt(size[1], 16);
        if (left === 0) {
          // trailers, if any, up to the blank line that ends the message
          while ((await line(conn)) !== "");
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
