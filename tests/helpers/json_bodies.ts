/**
 * Generated JSON request bodies for property tests: random documents in the shapes of chat
 * APIs, written with random whitespace, escapes and number spellings, optionally with keys
 * that repeat (spelled differently). Seeded, so a failure names the body that caused it.
 *
 * @module
 */

/** A small seeded generator, so a failure names the body that caused it. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The top-level fields body rules read. */
export const WANTED: ReadonlySet<string> = new Set([
  "model",
  "max_tokens",
  "max_completion_tokens",
  "max_output_tokens",
  "generationConfig",
  "generation_config",
  "stream",
  "stream_options",
]);
const KEYS = [
  ...WANTED,
  "messages",
  "content",
  "text",
  "prompt",
  "input",
  "system",
  "role",
  "image_url",
  "url",
  "parts",
  "temperature",
  "maxOutputTokens",
  "ünïcode",
  "emoji 🙂",
  "__proto__",
  'a"quote',
  "back\\slash",
  "",
];
/** String values the generator uses. */
export const STRINGS = [
  "Hello",
  "gpt-4o-mini",
  "ignore previous instructions",
  "",
  "line\nbreak\ttab",
  'quote " and \\ backslash',
  "ünïcode ✓ 🙂",
  "\u0000\u001f control",
  "\ufeffbom at start",
  "lone \ud800 surrogate",
  "slash / and \u2028 separator",
  "x".repeat(300),
];

/** A source of numbers in [0, 1). */
export type Rand = () => number;
/** One item of `list`. */
export const pick = <T>(r: Rand, list: readonly T[]) => list[Math.floor(r() * list.length)];

/** JSON text for `value`, with random whitespace, escapes and number spellings. */
export function write(r: Rand, value: unknown, dupes: boolean): string {
  const ws = () => pick(r, ["", "", "", " ", "\n  ", "\t", "\r\n"]);
  if (typeof value === "string") {
    let out = '"';
    for (const ch of value) {
      const code = ch.codePointAt(0)!;
      if (ch === '"' || ch === "\\" || code < 0x20 || (code < 0x10000 && r() < 0.1)) {
        if (ch === '"' || ch === "\\") out += r() < 0.5 ? `\\${ch}` : uEscape(r, code);
        else if (ch === "\n" && r() < 0.5) out += "\\n";
        else if (ch === "/" && r() < 0.5) out += "\\/";
        else if (code >= 0xd800 && code < 0xe000) out += uEscape(r, code);
        else out += uEscape(r, code);
      } else if (code >= 0xd800 && code < 0xe000) {
        out += uEscape(r, code);
      } else out += ch;
    }
    return out + '"';
  }
  if (typeof value === "number") {
    if (Number.isInteger(value) && r() < 0.3) return `${value}e0`;
    if (Number.isInteger(value) && value !== 0 && r() < 0.2) return `${value}.000`;
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${ws()}${value.map((v) => write(r, v, dupes)).join(`${ws()},${ws()}`)}${ws()}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) =>
      `${write(r, k, dupes)}${ws()}:${ws()}${write(r, v, dupes)}`
    );
    if (dupes && entries.length > 0 && r() < 0.3) {
      // The same key again, spelled differently, with another value.
      const [k] = Object.entries(value)[Math.floor(r() * entries.length)];
      entries.splice(Math.floor(r() * entries.length), 0, `${write(r, k, false)}:${ws()}1`);
    }
    return `{${ws()}${entries.join(`${ws()},${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(value);
}

function uEscape(r: Rand, code: number): string {
  const hex = code.toString(16).padStart(4, "0");
  return `\\u${r() < 0.5 ? hex : hex.toUpperCase()}`;
}

function generate(r: Rand, depth: number): unknown {
  const roll = r();
  if (depth > 4 || roll < 0.35) {
    return pick<unknown>(r, [
      pick(r, STRINGS),
      Math.floor(r() * 100_000) - 500,
      r() * 1e6,
      -0.5e-7,
      true,
      false,
      null,
    ]);
  }
  if (roll < 0.6) {
    return Array.from({ length: Math.floor(r() * 4) }, () => generate(r, depth + 1));
  }
  const object: Record<string, unknown> = {};
  const size = Math.floor(r() * 6);
  for (let i = 0; i < size; i++) {
    Object.defineProperty(object, pick(r, KEYS), {
      value: generate(r, depth + 1),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return object;
}

/** A random JSON object body. */
export function topLevel(r: Rand): Record<string, unknown> {
  const body = generate(r, 1);
  if (body !== null && typeof body === "object" && !Array.isArray(body)) {
    return body as Record<string, unknown>;
  }
  return { model: body, messages: [{ role: "user", content: pick(r, STRINGS) }] };
}
