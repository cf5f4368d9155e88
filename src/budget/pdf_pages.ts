/**
 * How many pages a base64 PDF has, at most, when that can be told cheaply and soundly: the
 * largest of the page tree's `/Count` values, the number of `/Type /Page` objects and the
 * number of references in `/Kids` arrays, all read from the file's uncompressed objects.
 * Page objects inside compressed object streams (`/ObjStm`, PDF 1.5+) cannot be seen without
 * inflating them, and names can be spelt with `#xx` escapes, counts given by reference: such
 * files give undefined, and the caller treats the document as unbounded.
 *
 * @module
 */

/** Bytes before `%PDF-` a reader tolerates. */
const HEADER_WINDOW = 1024;

/** The names and shapes that decide the count, in one pass. */
const TOKENS =
  /\/(?:(ObjStm)\b|Type\s*\/Page(?![A-Za-z0-9])|Count\s+(\d+)(\s+\d+\s+R)?|Kids\s*(?:\[([^\]]*)\]|(\d)))/g;
/** A name with an escape (`/Ty#70e`): it may stand for any of the names above. */
const ESCAPED_NAME = /\/[^\s/[\]<>(){}%]*#[0-9A-Fa-f]{2}[^\s/[\]<>(){}%]*/g;
const DECISIVE = new Set(["Type", "Page", "Pages", "Count", "Kids", "ObjStm"]);
const REFERENCE = /\d+\s+\d+\s+R/g;

/**
 * The most pages the PDF in `base64` (a bare payload) can have; undefined when it is not a
 * PDF whose pages can be counted from its uncompressed objects.
 *
 * @example
 * ```ts
 * import { pdfPages } from "./pdf_pages.ts";
 *
 * const pdf = "%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n" +
 *   "2 0 obj <</Type /Pages /Kids [3 0 R 4 0 R] /Count 2>> endobj\n" +
 *   "3 0 obj <</Type /Page /Parent 2 0 R>> endobj\n4 0 obj <</Type /Page /Parent 2 0 R>> endobj\n";
 * if (pdfPages(btoa(pdf)) !== 2) throw new Error("miscounted");
 * ```
 */
export function pdfPages(base64: string): number | undefined {
  let bytes: string;
  try {
    bytes = atob(base64);
  } catch {
    return undefined;
  }
  const header = bytes.indexOf("%PDF-");
  if (header === -1 || header > HEADER_WINDOW) return undefined;
  for (const match of bytes.matchAll(ESCAPED_NAME)) {
    const name = match[0].slice(1).replace(
      /#([0-9A-Fa-f]{2})/g,
      (_, hex) => String.fromCharCode(parseInt(hex, 16)),
    );
    if (DECISIVE.has(name)) return undefined;
  }
  let count = 0;
  let pages = 0;
  let kids = 0;
  for (const match of bytes.matchAll(TOKENS)) {
    const [, objectStream, total, indirect, list, listByReference] = match;
    if (objectStream || indirect || listByReference) return undefined;
    if (total !== undefined) count = Math.max(count, Number(total));
    else if (list !== undefined) kids += list.match(REFERENCE)?.length ?? 0;
    else pages++;
  }
  const most = Math.max(count, pages, kids);
  return most > 0 ? most : undefined;
}
