/**
 * Writes the body rules' edits back into the bytes the client sent. Every byte the rules did
 * not change (the prompt, any images) stays as it came, never decoded or re-encoded, and
 * usually never copied: a value that fits where the old one was is written over it (padded
 * with spaces, which JSON ignores), and an added field goes right after the opening brace,
 * into room the reader kept free before the body ({@linkcode SPLICE_ROOM}). Only an edit
 * that outgrows its place copies the body once.
 *
 * @module
 */
import type { JsonScan } from "./scan.ts";

/** Bytes a reader keeps free before a body so that added fields need no copy of it. */
export const SPLICE_ROOM = 128;

const encoder = new TextEncoder();
const SPACE = 0x20;

interface Edit {
  start: number;
  end: number;
  /** The new text, as UTF-8 bytes when it is not all ASCII. */
  text: string | Uint8Array;
  /** Its length in bytes. */
  bytes: number;
}

/** An edit of `[start, end)` to `text`: ASCII text (a clamp) stays a string, no encoder call. */
function edit(start: number, end: number, text: string): Edit {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      const bytes = encoder.encode(text);
      return { start, end, text: bytes, bytes: bytes.byteLength };
    }
  }
  return { start, end, text, bytes: text.length };
}

/** Writes an edit's text into `target` at `at`. */
function write(target: Uint8Array, at: number, text: string | Uint8Array): void {
  if (typeof text !== "string") target.set(text, at);
  else for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i);
}

/**
 * Returns `bytes` with the top-level fields named in `changed` set to their values in `body`,
 * as `JSON.stringify` writes them. `bytes` may be edited in place; when `room` bytes before
 * it in its buffer are free to use, the result may be a view starting up to that much earlier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanJson } from "./scan.ts";
 * import { spliceFields } from "./splice.ts";
 *
 * const bytes = new TextEncoder().encode('{"max_tokens":9000,"messages":[]}');
 * const scan = scanJson(bytes, new Set(["max_tokens"]), false);
 * const out = spliceFields(bytes, scan, { max_tokens: 100 }, new Set(["max_tokens"]), 0);
 * assert.equal(new TextDecoder().decode(out), '{"max_tokens":100 ,"messages":[]}');
 * ```
 */
export function spliceFields(
  bytes: Uint8Array<ArrayBuffer>,
  scan: JsonScan,
  body: Record<string, unknown>,
  changed: ReadonlySet<string>,
  room: number,
): Uint8Array<ArrayBuffer> {
  const edits: Edit[] = [];
  let added = "";
  for (const name of changed) {
    const text = JSON.stringify(body[name]) ?? "null";
    const span = scan.fields.get(name);
    if (span) edits.push(edit(span.start, span.end, text));
    else added += `${added ? "," : ""}${JSON.stringify(name)}:${text}`;
  }
  // Added fields go first in the object; a comma follows them unless the object was empty.
  const at = scan.open + 1;
  const insert = added ? edit(at, at, added + (scan.empty ? "" : ",")) : undefined;
  let inPlace = insert === undefined || insert.bytes <= Math.min(room, bytes.byteOffset);
  for (const e of edits) inPlace &&= e.bytes <= e.end - e.start;
  if (!inPlace) return copied(bytes, insert ? [...edits, insert] : edits);

  for (const e of edits) {
    write(bytes, e.start, e.text);
    bytes.fill(SPACE, e.start + e.bytes, e.end);
  }
  if (!insert) return bytes;
  const shift = insert.bytes;
  const out = new Uint8Array(bytes.buffer, bytes.byteOffset - shift, bytes.byteLength + shift);
  // Everything up to the opening brace moves back to make room right after it.
  out.copyWithin(0, shift, shift + at);
  write(out, at, insert.text);
  return out;
}

/** The edits written into a new copy of the body. */
function copied(bytes: Uint8Array, edits: Edit[]): Uint8Array<ArrayBuffer> {
  edits.sort((a, b) => a.start - b.start);
  let length = bytes.byteLength;
  for (const e of edits) length += e.bytes - (e.end - e.start);
  const out = new Uint8Array(length);
  let from = 0;
  let to = 0;
  for (const e of edits) {
    out.set(bytes.subarray(from, e.start), to);
    to += e.start - from;
    write(out, to, e.text);
    to += e.bytes;
    from = e.end;
  }
  out.set(bytes.subarray(from), to);
  return out;
}
