/**
 * Repeated keys in JSON text. `JSON.parse` keeps the last of two equal keys and says nothing,
 * while another reader of the same bytes may take the first: a body checked as one thing could
 * reach the upstream as another. This scan finds them in the text itself.
 *
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Returns the first key that appears twice in one object of `text`, at any depth, or
 * undefined when none does. Keys are compared after their escapes are decoded (`"a"` and
 * `"\u0061"` are the same key). `text` must be valid JSON (parse it first).
 *
 * @example
 * ```ts
 * repeatedKey('{"app":"a","input":{},"app":"b"}'); // "app"
 * repeatedKey('{"a":{"x":1},"b":{"x":2}}'); // undefined
 * ```
 */
export function repeatedKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let escaped = false;
      for (i = start; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) break;
      }
      if (expectKey) {
        const raw = text.slice(start, i);
        const key = escaped ? JSON.parse(`"${raw}"`) as string : raw;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b) { // {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) { // [
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) { // } ]
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) { // ,
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}
