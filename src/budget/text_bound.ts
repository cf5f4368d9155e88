/**
 * Sound bounds on the tokens of a text when no exact tokenizer applies.
 *
 * A byte-level BPE (OpenAI's, Claude 2's) and a SentencePiece model with byte fallback (Gemma,
 * and so presumably Gemini) never make a token out of less than one byte of the text they
 * see, so its UTF-8 length bounds its tokens. Tokenizers that normalise first (NFKC, as
 * Anthropic's published tokenizer does) see a longer text: one character may expand to 18
 * (U+FDFA), so the bound is the larger of the two lengths (see {@linkcode nfkcBound}). Characters / 4, UTF-16 length and
 * even one token per character are not bounds: byte fallback spends 4 tokens on one rare
 * CJK character.
 *
 * @module
 */
import { utf8Length } from "../bytes.ts";

const NOT_ASCII = /[\u0080-\uffff]/;

/** UTF-8 bytes of each BMP code point's NFKD form, filled as they are met (0: not yet). */
const BMP_NFKD = new Uint8Array(0x10000);
/** The same for code points past the BMP, up to a bound. */
const ASTRAL_NFKD = new Map<number, number>();
const ASTRAL_CACHED = 65_536;

function nfkdBytes(codePoint: number): number {
  if (codePoint < 0x10000) {
    const known = BMP_NFKD[codePoint];
    if (known) return known;
    return BMP_NFKD[codePoint] = utf8Length(String.fromCharCode(codePoint).normalize("NFKD"));
  }
  const known = ASTRAL_NFKD.get(codePoint);
  if (known !== undefined) return known;
  const bytes = utf8Length(String.fromCodePoint(codePoint).normalize("NFKD"));
  if (ASTRAL_NFKD.size < ASTRAL_CACHED) ASTRAL_NFKD.set(codePoint, bytes);
  return bytes;
}

/**
 * A sound bound on the tokens of `text` for a tokenizer that may normalise it with NFKC
 * first: the larger of its UTF-8 length and the length of its NFKC form, or more.
 *
 * NFKC decomposes each code point, reorders marks and recomposes pairs, and recomposing
 * never adds bytes, so the bytes of each code point's own decomposition add up to at least
 * the bytes of the text's NFKC form. That sum is what is used: a table lookup per character,
 * where normalising the text itself can take longer than any request should wait (100 KB of
 * U+FDFA, which becomes 18 characters each). It is the text's own length when nothing in it
 * decomposes, and a little more than NFKC's for text with precomposed accents (é is counted
 * as e and U+0301, 3 bytes for NFKC's 2).
 *
 * @example
 * ```ts
 * import { nfkcBound } from "./text_bound.ts";
 *
 * if (nfkcBound("hi") !== 2) throw new Error("ASCII: one per byte");
 * // U+FDFA is 3 bytes, and 18 characters (33 bytes) once normalised
 * if (nfkcBound("\uFDFA") !== 33) throw new Error("NFKC expansion missed");
 * ```
 */
export function nfkcBound(text: string): number {
  const bytes = utf8Length(text);
  if (!NOT_ASCII.test(text)) return bytes;
  let decomposed = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) decomposed += 1;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        decomposed += nfkdBytes(((c - 0xd800) << 10) + (next - 0xdc00) + 0x10000);
        i++;
      } else decomposed += 3; // a lone surrogate: U+FFFD once encoded
    } else decomposed += BMP_NFKD[c] || nfkdBytes(c);
  }
  return Math.max(bytes, decomposed);
}
