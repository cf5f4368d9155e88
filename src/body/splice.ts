/**
 * Writes the body rules' edits back into the bytes the client sent: each changed top-level
 * value is replaced where it lies, each added field goes before the closing brace, and every
 * other byte (the prompt, any images) is copied as it came, never decoded or re-encoded.
 *
 * @module
 */
import type { JsonScan } from "./scan.ts";

const encoder = new TextEncoder();

/**
 * Returns `bytes` with the top-level fields named in `changed` set to their values in `body`,
 * as `JSON.stringify` writes them.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"max_tokens":9000,"messages":[]}');
 * const scan = scanJson(bytes, new Set(["max_tokens"]), false);
 * spliceFields(bytes, scan, { max_tokens: 100 }, new Set(["max_tokens"]));
 * // {"max_tokens":100,"messages":[]}
 * ```
 */
export function spliceFields(
  bytes: Uint8Array,
  scan: JsonScan,
  body: Record<string, unknown>,
  changed: ReadonlySet<string>,
): Uint8Array<ArrayBuffer> {
  const edits: { start: number; end: number; text: Uint8Array }[] = [];
  const added: string[] = [];
  for (const name of changed) {
    const text = JSON.stringify(body[name]) ?? "null";
    const span = scan.fields.get(name);
    if (span) edits.push({ ...span, text: encoder.encode(text) });
    else added.push(`${JSON.stringify(name)}:${text}`);
  }
  if (added.length > 0) {
    const text = (scan.empty ? "" : ",") + added.join(",");
    edits.push({ start: scan.close, end: scan.close, text: encoder.encode(text) });
  }
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
