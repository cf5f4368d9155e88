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
  text: Uint8Array;
}

/**
 * Returns `bytes` with the top-level fields named in `changed` set to their values in `body`,
 * as `JSON.stringify` writes them. `bytes` may be edited in place; when `room` bytes before
 * it in its buffer are free to use, the result may be a view starting up to that much earlier.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"max_tokens":9000,"messages":[]}');
 * const scan = scanJson(bytes, new Set(["max_tokens"]), false);
 * spliceFields(bytes, scan, { max_tokens: 100 }, new Set(["max_tokens"]), 0);
 * // {"max_tokens":100 ,"messages":[]}
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
  const added: string[] = [];
  for (const name of changed) {
    const text = JSON.stringify(body[name]) ?? "null";
    const span = scan.fields.get(name);
    if (span) edits.push({ ...span, text: encoder.encode(text) });
    else added.push(`${JSON.stringify(name)}:${text}`);
  }
  // Added fields go first in the object; a comma follows them unless the object was empty.
  const insert = added.length > 0
    ? encoder.encode(added.join(",") + (scan.empty ? "" : ","))
    : undefined;
  const inPlace = edits.every((edit) => edit.text.byteLength <= edit.end - edit.start) &&
    (insert === undefined || insert.byteLength <= Math.min(room, bytes.byteOffset));
  if (!inPlace) return copied(bytes, scan, edits, insert);

  for (const edit of edits) {
    bytes.set(edit.text, edit.start);
    bytes.fill(SPACE, edit.start + edit.text.byteLength, edit.end);
  }
  if (!insert) return bytes;
  const shift = insert.byteLength;
  const out = new Uint8Array(bytes.buffer, bytes.byteOffset - shift, bytes.byteLength + shift);
  // Everything up to the opening brace moves back to make room right after it.
  out.copyWithin(0, shift, shift + scan.open + 1);
  out.set(insert, scan.open + 1);
  return out;
}

/** The edits written into a new copy of the body. */
function copied(
  bytes: Uint8Array,
  scan: JsonScan,
  edits: Edit[],
  insert: Uint8Array | undefined,
): Uint8Array<ArrayBuffer> {
  if (insert) edits.push({ start: scan.open + 1, end: scan.open + 1, text: insert });
  edits.sort((a, b) => a.start - b.start);
  let length = bytes.byteLength;
  for (const edit of edits) length += edit.text.byteLength - (edit.end - edit.start);
  const out = new Uint8Array(length);
  let from = 0;
  let to = 0;
  for (const edit of edits) {
    out.set(bytes.subarray(from, edit.start), to);
    to += edit.start - from;
    out.set(edit.text, to);
    to += edit.text.byteLength;
    from = edit.end;
  }
  out.set(bytes.subarray(from), to);
  return out;
}
