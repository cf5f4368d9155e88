/**
 * A validating JSON scanner over a request body's bytes: it checks the whole document as
 * `JSON.parse` would, but builds no values. It reports where the values of the top-level
 * fields the body rules need lie, refuses keys that repeat in any object (parsers disagree
 * on which one wins: `JSON.parse` takes the last, some upstreams the first), and, when asked,
 * collects the message text the deny patterns read (see `message_text.ts`), decoding only
 * those strings. The rules then parse just those few values and splice their edits back,
 * so a large prompt or a base64 image is walked once and never decoded, parsed or encoded.
 *
 * @module
 */
import { TEXT_KEYS } from "./message_text.ts";

/** Why a body is not a JSON object the rules can read. */
export class JsonScanError extends Error {
  /**
   * `invalid` (not JSON), `not_object` (JSON, but not an object), `duplicate` (a key repeats)
   * or `too_deep` (nested past {@linkcode MAX_DEPTH}).
   */
  readonly kind: "invalid" | "not_object" | "duplicate" | "too_deep";
  constructor(kind: JsonScanError["kind"], message: string) {
    super(message);
    this.name = "JsonScanError";
    this.kind = kind;
  }
}

/** Where a value lies in the bytes: `[start, end)`. */
export interface Span {
  /** Offset of its first byte. */
  start: number;
  /** Offset just past its last byte. */
  end: number;
}

/** What a scan found in a JSON object body. */
export interface JsonScan {
  /** The spans of the wanted top-level fields present in the body. */
  fields: Map<string, Span>;
  /** Offset of the top-level object's opening `{`. */
  open: number;
  /** Offset of the top-level object's closing `}`. */
  close: number;
  /** Whether the top-level object has no members. */
  empty: boolean;
  /** Message text, in document order, when it was asked for. */
  text?: string[];
}

// Bytes the scanner looks for.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** `b`, `f`, `n`, `r`, `t`, `"`, `\`, `/`: the one-letter escapes. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of 'bfnrt"\\/') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;
const TRUE = new TextEncoder().encode("true");
const FALSE = new TextEncoder().encode("false");
const NULL = new TextEncoder().encode("null");

/**
 * Objects and arrays may nest this deep. No API body comes near it (a chat request nests five
 * or six levels); without a bound, a body of four million `[` would cost the scanner a frame
 * each. Parsers upstream have bounds of their own (serde_json 128, Go's encoding/json 10,000).
 */
export const MAX_DEPTH = 1000;

/** Objects with more keys than this check repeats with a Set instead of a list. */
const FEW_KEYS = 16;

// The decoder `JSON.parse(new TextDecoder().decode(bytes))` would use, minus BOM handling:
// a slice that starts with U+FEFF is text, not a byte order mark.
const sliceDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

interface Frame {
  /** An object (else an array). */
  object: boolean;
  /** Keys seen so far in an object, while few. */
  keys: string[];
  /** Keys seen so far in an object with many. */
  many: Set<string> | undefined;
  /** For an array: whether its strings are text; for an object: whether its current key's are. */
  textual: boolean;
}

function invalid(): JsonScanError {
  return new JsonScanError("invalid", "The request body is not valid JSON");
}

function skipSpace(bytes: Uint8Array, i: number): number {
  for (;;) {
    const b = bytes[i];
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) i++;
    else return i;
  }
}

/** Bodies from this size on are read a word at a time in their long strings. */
const WORD_SCAN_BYTES = 256;
/** Strings longer than this are scanned four bytes at a time, where the bytes allow. */
const SHORT_STRING = 32;

/**
 * Scans a string whose opening quote is at `i`; returns the offset past its closing quote.
 * `words` views the same bytes as 32-bit words (when they are aligned), so that the long
 * stretches of a prompt or a base64 image are checked a word at a time.
 */
function skipString(bytes: Uint8Array, words: Uint32Array | undefined, i: number): number {
  const n = bytes.length;
  i++;
  let plain = 0;
  for (;;) {
    if (i >= n) throw invalid();
    if (words && plain > SHORT_STRING && (i & 3) === 0) {
      // Find the first word with a quote, a backslash or a control byte in it.
      let k = i >>> 2;
      const end = words.length;
      for (; k < end; k++) {
        const x = words[k];
        const quote = x ^ 0x22222222;
        const slash = x ^ 0x5c5c5c5c;
        if (
          (((x - 0x20202020) & ~x) | ((quote - 0x01010101) & ~quote) |
            ((slash - 0x01010101) & ~slash)) & 0x80808080
        ) break;
      }
      i = k << 2;
      plain = 0;
      if (i >= n) throw invalid();
    }
    const b = bytes[i];
    if (b === QUOTE) return i + 1;
    if (b === BACKSLASH) {
      const e = bytes[i + 1];
      if (e === 0x75) {
        if (!(HEX[bytes[i + 2]] && HEX[bytes[i + 3]] && HEX[bytes[i + 4]] && HEX[bytes[i + 5]])) {
          throw invalid();
        }
        i += 6;
      } else if (e !== undefined && SIMPLE_ESCAPE[e]) {
        i += 2;
      } else throw invalid();
    } else if (b < 0x20) {
      throw invalid();
    } else {
      i++;
      plain++;
    }
  }
}

function skipDigits(bytes: Uint8Array, i: number): number {
  while (bytes[i] >= ZERO && bytes[i] <= NINE) i++;
  return i;
}

/** Scans a number at `i` (RFC 8259 grammar); returns the offset past it. */
function skipNumber(bytes: Uint8Array, i: number): number {
  if (bytes[i] === MINUS) i++;
  if (bytes[i] === ZERO) i++;
  else if (bytes[i] > ZERO && bytes[i] <= NINE) i = skipDigits(bytes, i + 1);
  else throw invalid();
  if (bytes[i] === DOT) {
    const after = skipDigits(bytes, i + 1);
    if (after === i + 1) throw invalid();
    i = after;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i++;
    if (bytes[i] === PLUS || bytes[i] === MINUS) i++;
    const after = skipDigits(bytes, i);
    if (after === i) throw invalid();
    i = after;
  }
  return i;
}

/** Spans up to this many bytes are turned into text without a decoder call. */
const SHORT_TEXT = 64;

/**
 * The text of the bytes at `[start, end)`, as `TextDecoder` (with no byte order mark
 * handling) gives it. Short ASCII spans, such as a model name or a number, are read directly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanJson, textOf } from "./scan.ts";
 *
 * const bytes = new TextEncoder().encode('{"model":"gpt-4o-mini","messages":[]}');
 * const span = scanJson(bytes, new Set(["model"]), false).fields.get("model")!;
 * assert.equal(JSON.parse(textOf(bytes, span.start, span.end)), "gpt-4o-mini"); // a field's value
 * ```
 */
export function textOf(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_TEXT) {
    let text = "";
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i];
      if (b >= 0x80) break;
      text += String.fromCharCode(b);
    }
    if (i === end) return text;
  }
  return sliceDecoder.decode(bytes.subarray(start, end));
}

/** The value of the string at `[start, end)` (quotes included), as `JSON.parse` gives it. */
function stringValue(bytes: Uint8Array, start: number, end: number): string {
  const text = textOf(bytes, start, end);
  return text.includes("\\") ? JSON.parse(text) : text.slice(1, -1);
}

/** The most keys the cache holds. */
const CACHED_KEYS = 4096;
/**
 * Keys by a hash of their bytes, shared by every scan: bodies of one API repeat the same few
 * keys ("model", "role", "content"), so after the first requests no key is decoded again.
 * A hit is confirmed byte by byte, so a collision costs a decode, never a wrong key.
 */
const KEY_CACHE = new Map<number, string>();
/** Keys longer than this (in bytes) skip the cache. */
const CACHED_KEY_BYTES = 64;

/**
 * The key at `[start, end)`. Bodies repeat a few short keys many times ("role", "content"):
 * a plain ASCII key is hashed and, when the cache holds it, the same string is returned, so
 * no string is built and the repeat check compares pointers.
 */
function keyValue(bytes: Uint8Array, start: number, end: number): string {
  const cache = KEY_CACHE;
  const last = end - 1;
  if (end - start <= CACHED_KEY_BYTES) {
    let hash = 0x811c9dc5 ^ (end - start);
    let i = start + 1;
    for (; i < last; i++) {
      const b = bytes[i];
      if (b === BACKSLASH || b >= 0x80) break;
      hash = Math.imul(hash ^ b, 0x01000193);
    }
    if (i === last) {
      const hit = cache.get(hash);
      if (hit !== undefined && hit.length === last - start - 1) {
        let k = 0;
        while (k < hit.length && hit.charCodeAt(k) === bytes[start + 1 + k]) k++;
        if (k === hit.length) return hit;
      }
      const key = sliceDecoder.decode(bytes.subarray(start + 1, last));
      // Real bodies repeat a few keys; a body of a million distinct ones does not fill memory.
      if (cache.size < CACHED_KEYS) cache.set(hash, key);
      return key;
    }
  }
  return stringValue(bytes, start, end);
}

/** Adds `key` to the object's keys; returns false when it was there already. */
function addKey(frame: Frame, key: string): boolean {
  const many = frame.many;
  if (many) {
    if (many.has(key)) return false;
    many.add(key);
    return true;
  }
  const keys = frame.keys;
  if (keys.includes(key)) return false;
  keys.push(key);
  if (keys.length > FEW_KEYS) frame.many = new Set(keys);
  return true;
}

function duplicate(key: string): JsonScanError {
  const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return new JsonScanError(
    "duplicate",
    `The request body repeats the key ${JSON.stringify(shown)}`,
  );
}

/**
 * Scans a JSON object body. `fields` names the top-level fields whose value spans are wanted
 * (`"all"` for every one, for rules that check which fields a body sets);
 * `text` asks for the message text. A leading UTF-8 byte order mark is skipped, as
 * `TextDecoder` does.
 *
 * @throws {JsonScanError} when the body is not JSON, not an object, repeats a key, or nests
 * deeper than {@linkcode MAX_DEPTH}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanJson } from "./scan.ts";
 *
 * const bytes = new TextEncoder().encode('{"model":"gpt-4o-mini","messages":[]}');
 * const scan = scanJson(bytes, new Set(["model"]), false);
 * assert.deepEqual(scan.fields.get("model"), { start: 9, end: 22 }); // "gpt-4o-mini", quoted
 * assert.throws(() => scanJson(new TextEncoder().encode('{"a":1,"a":2}'), "all", false));
 * ```
 */
export function scanJson(
  bytes: Uint8Array,
  fields: ReadonlySet<string> | "all",
  text: boolean,
): JsonScan {
  const n = bytes.length;
  let i = n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  i = skipSpace(bytes, i);
  const found = new Map<string, Span>();
  const pieces: string[] | undefined = text ? [] : undefined;
  const stack: Frame[] = [];
  // Only a body with long strings gains from reading words.
  const words = n >= WORD_SCAN_BYTES && bytes.byteOffset % 4 === 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2)
    : undefined;
  let isObject = false;
  let open = -1;
  let close = -1;
  let empty = true;
  // The top-level field whose value is being scanned, when it is wanted.
  let wanted: string | undefined;
  let wantedStart = 0;
  // Whether strings of the value about to be scanned are message text.
  let textual = false;
  // The first key seen twice in one object: reported once the whole body is known to be JSON.
  let repeated: string | undefined;

  for (;;) {
    // A value starts at i.
    const start = i;
    const b = bytes[i];
    let done = false;
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      const object = b === OPEN_BRACE;
      if (stack.length === 0) {
        isObject = object;
        open = i;
      }
      if (stack.length === MAX_DEPTH) {
        throw new JsonScanError(
          "too_deep",
          `The request body nests deeper than ${MAX_DEPTH} levels`,
        );
      }
      stack.push({ object, keys: [], many: undefined, textual });
      i = skipSpace(bytes, i + 1);
      if (bytes[i] === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
        stack.pop();
        if (stack.length === 0) close = i;
        i++;
        done = true;
      } else if (!object) {
        continue;
      }
    } else if (b === QUOTE) {
      i = skipString(bytes, words, i);
      if (pieces && textual) pieces.push(stringValue(bytes, start, i));
      done = true;
    } else if (b === MINUS || (b >= ZERO && b <= NINE)) {
      i = skipNumber(bytes, i);
      done = true;
    } else {
      const literal = b === 0x74 ? TRUE : b === 0x66 ? FALSE : b === 0x6e ? NULL : undefined;
      if (!literal) throw invalid();
      for (let k = 1; k < literal.length; k++) {
        if (bytes[i + k] !== literal[k]) throw invalid();
      }
      i += literal.length;
      done = true;
    }

    // After a complete value, close whatever containers end here, then find the next value.
    while (done) {
      if (stack.length === 1 && wanted !== undefined) {
        found.set(wanted, { start: wantedStart, end: i });
        wanted = undefined;
      }
      if (stack.length === 0) {
        i = skipSpace(bytes, i);
        if (i !== n) throw invalid();
        if (!isObject) {
          throw new JsonScanError("not_object", "The request body must be a JSON object");
        }
        if (repeated !== undefined) throw duplicate(repeated);
        return { fields: found, open, close, empty, text: pieces };
      }
      i = skipSpace(bytes, i);
      const frame = stack[stack.length - 1];
      const c = bytes[i];
      if (c === COMMA) {
        i = skipSpace(bytes, i + 1);
        if (!frame.object) {
          textual = frame.textual;
          done = false;
        } else break;
      } else if (c === (frame.object ? CLOSE_BRACE : CLOSE_BRACKET)) {
        stack.pop();
        if (stack.length === 0) close = i;
        i++;
      } else throw invalid();
    }
    if (!done && stack[stack.length - 1]?.object === false) continue;

    // In an object, at a key.
    const frame = stack[stack.length - 1];
    if (bytes[i] !== QUOTE) throw invalid();
    const keyStart = i;
    i = skipString(bytes, words, i);
    const key = keyValue(bytes, keyStart, i);
    if (!addKey(frame, key) && repeated === undefined) repeated = key;
    i = skipSpace(bytes, i);
    if (bytes[i] !== COLON) throw invalid();
    i = skipSpace(bytes, i + 1);
    frame.textual = TEXT_KEYS.has(key);
    textual = frame.textual;
    if (stack.length === 1) {
      empty = false;
      if (fields === "all" || fields.has(key)) {
        wanted = key;
        wantedStart = i;
      }
    }
  }
}
