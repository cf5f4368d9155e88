/**
 * The quick reading of routes.yaml: the YAML of an ordinary config (block and flow maps and
 * lists, plain and quoted scalars, comments) read with js-yaml's event parser, which is one
 * small ES module, instead of the `yaml` package, which Deno loads through its CommonJS
 * build (a start-up cost several times the parse itself).
 *
 * It yields what load.ts would: the same values under the YAML 1.2 core schema (the `yaml`
 * package's own rules for null, booleans and numbers, copied below), `${VAR}` interpolation
 * applied to the same scalars, and the same offsets for every node. Anything it is not sure
 * to read the same way (tags, anchors, aliases, directives, block scalars, empty values,
 * non-string or repeated keys, more than one document, a parse error, an unset variable)
 * makes it answer `undefined`, and the caller reads the text with the `yaml` package, which
 * also words every error. quick_yaml_test.ts feeds both the same documents.
 *
 * @module
 */
import {
  EVENT_ALIAS,
  EVENT_DOCUMENT,
  EVENT_MAPPING,
  EVENT_POP,
  EVENT_SCALAR,
  EVENT_SEQUENCE,
  getScalarValue,
  parseEvents,
  SCALAR_STYLE_DOUBLE_QUOTED,
  SCALAR_STYLE_PLAIN,
  SCALAR_STYLE_SINGLE_QUOTED,
} from "js-yaml";
import type { EnvLookup } from "./issues.ts";
import { interpolate, plainValue } from "./interpolate.ts";

/** A node of the document: its value as `toJS()` gives it, and its offset in the source. */
type Node =
  | { kind: "scalar"; offset: number; value: unknown }
  | { kind: "seq"; offset: number; value: unknown[]; items: Node[] }
  | { kind: "map"; offset: number; value: Record<string, unknown>; pairs: Map<string, Node> };

/** A document read the quick way. */
export interface QuickDocument {
  /** The document as plain values (`Document#toJS()`), `undefined` when it is empty. */
  value: unknown;
  /**
   * The offset of the deepest node on `path` that exists, as load.ts finds it with
   * `Document#getIn(path, true).range[0]` (0 when not even the root exists).
   */
  locateOffset(path: readonly PropertyKey[]): number;
}

/**
 * Text where the parsers were seen to differ: a lone CR (a line break to one, not to the
 * other's line counter), a tab in a line's indentation, a document marker that is indented
 * (a marker to js-yaml, text to `yaml`), document end markers, byte order marks, and lines of
 * 1,000 characters or more (`yaml` refuses implicit keys over 1,024).
 */
const UNUSUAL_TEXT = /\r(?!\n)|^ *\t|^[ \t]+(?:---|\.\.\.)|^\.\.\.|\uFEFF|[^\n]{1000}/m;

/** Thrown inside to give up; never escapes this module. */
class GiveUp extends Error {}

/**
 * Reads `text` when it keeps to the ordinary YAML this module is sure to read as the `yaml`
 * package does; `undefined` otherwise (then read it with the `yaml` package).
 *
 * @example
 * ```ts
 * const doc = quickYaml("server: { port: ${PORT:-8080} }\n", () => undefined);
 * doc?.value; // { server: { port: 8080 } }
 * ```
 */
export function quickYaml(text: string, env: EnvLookup): QuickDocument | undefined {
  if (UNUSUAL_TEXT.test(text)) return undefined;
  let events;
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined;
  }
  try {
    return read(text, events, env);
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}

type Events = ReturnType<typeof parseEvents>;

function read(text: string, events: Events, env: EnvLookup): QuickDocument {
  let documents = 0;
  let root: Node | undefined;
  // Open collections; a map also holds the key waiting for its value.
  const stack: { node: Node; key?: string }[] = [];
  const give = (): never => {
    throw new GiveUp();
  };
  const place = (node: Node) => {
    const parent = stack.at(-1);
    if (!parent) {
      root = node;
    } else if (parent.node.kind === "seq") {
      parent.node.items.push(node);
      parent.node.value.push(node.value);
    } else if (parent.node.kind === "map") {
      if (parent.key === undefined) {
        // A key: a scalar that is a string, not yet in this map, and not one that a plain
        // object treats specially.
        if (node.kind !== "scalar" || typeof node.value !== "string") give();
        const key = node.value as string;
        if (parent.node.pairs.has(key) || key === "__proto__" || key === "<<") give();
        parent.key = key;
      } else {
        const map = parent.node;
        map.pairs.set(parent.key, node);
        if (parent.key in map.value) {
          Object.defineProperty(map.value, parent.key, {
            value: node.value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else {
          map.value[parent.key] = node.value;
        }
        parent.key = undefined;
      }
    }
  };
  for (const event of events) {
    switch (event.type) {
      case EVENT_DOCUMENT:
        if (++documents > 1 || event.directives.length > 0) give();
        break;
      case EVENT_MAPPING:
      case EVENT_SEQUENCE: {
        if (event.anchorStart !== -1 || event.tagStart !== -1) give();
        const node: Node = event.type === EVENT_MAPPING
          ? { kind: "map", offset: event.start, value: {}, pairs: new Map() }
          : { kind: "seq", offset: event.start, value: [], items: [] };
        const parent = stack.at(-1);
        // A collection as a key would be stringified: leave that to the full loader.
        if (parent?.node.kind === "map" && parent.key === undefined) give();
        stack.push({ node });
        break;
      }
      case EVENT_POP: {
        const closed = stack.pop();
        if (closed) {
          if (closed.key !== undefined) give(); // a key without a value
          place(closed.node);
        }
        break;
      }
      case EVENT_SCALAR:
        place(scalar(text, event, env, give));
        break;
      case EVENT_ALIAS:
      default:
        give();
    }
  }
  if (stack.length > 0) give();
  const top = root;
  return {
    value: top?.value,
    locateOffset(path) {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = nodeAt(top, path, depth);
        if (node) return node.offset;
      }
      return 0;
    },
  };
}

type ScalarEvent = Extract<Events[number], { type: typeof EVENT_SCALAR }>;

function scalar(
  text: string,
  event: ScalarEvent,
  env: EnvLookup,
  give: () => never,
): Node {
  if (event.anchorStart !== -1 || event.tagStart !== -1) give();
  // An empty value's offset is where its indicator ends; keep to scalars that have text.
  if (event.valueStart === -1) give();
  let offset: number;
  let value: unknown;
  const source = getScalarValue(text, event);
  if (event.style === SCALAR_STYLE_PLAIN) {
    if (event.valueEnd <= event.valueStart) give();
    offset = event.valueStart;
    value = coreScalar(source);
  } else if (
    event.style === SCALAR_STYLE_SINGLE_QUOTED || event.style === SCALAR_STYLE_DOUBLE_QUOTED
  ) {
    // js-yaml points inside the quotes, the `yaml` package at the opening quote.
    offset = event.valueStart - 1;
    if (text[offset] !== (event.style === SCALAR_STYLE_SINGLE_QUOTED ? "'" : '"')) give();
    // The parsers fold an escaped line break before an empty line differently, and only
    // `yaml` refuses a \U escape beyond Unicode.
    if (event.style === SCALAR_STYLE_DOUBLE_QUOTED) {
      const raw = text.slice(event.valueStart, event.valueEnd);
      if ((raw.includes("\\") && raw.includes("\n")) || raw.includes("\\U")) give();
    }
    value = source;
  } else {
    return give(); // block scalars: their offset is the header's, lines above the text
  }
  if (typeof value === "string" && value.includes("${")) {
    let unset = false;
    const replaced = interpolate(value, env, () => unset = true);
    if (unset) give(); // the full loader reports it, with the others
    value = event.style === SCALAR_STYLE_PLAIN ? plainValue(replaced) : replaced;
  }
  return { kind: "scalar", offset, value };
}

/**
 * A plain scalar under the YAML 1.2 core schema, by the `yaml` package's tests in its order:
 * null, bool, octal, decimal and hexadecimal int, .inf/.nan, exponent and plain floats.
 */
function coreScalar(source: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(source)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(source)) {
    return source[0] === "t" || source[0] === "T";
  }
  if (/^0o[0-7]+$/.test(source)) return parseInt(source.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(source)) return parseInt(source, 10);
  if (/^0x[0-9a-fA-F]+$/.test(source)) return parseInt(source.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(source)) {
    return source.slice(-3).toLowerCase() === "nan"
      ? NaN
      : source[0] === "-"
      ? Number.NEGATIVE_INFINITY
      : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(source)) {
    return parseFloat(source);
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(source)) return parseFloat(source);
  return source;
}

/** The node at the first `depth` keys of `path`, as `Document#getIn(path, true)` finds it. */
function nodeAt(root: Node | undefined, path: readonly PropertyKey[], depth: number) {
  let node = root;
  for (let i = 0; i < depth && node; i++) {
    const key = path[i];
    if (node.kind === "map") {
      node = typeof key === "string" ? node.pairs.get(key) : undefined;
    } else if (node.kind === "seq") {
      const index = typeof key === "string" && key ? Number(key) : key;
      node = typeof index === "number" && Number.isInteger(index) && index >= 0
        ? node.items[index]
        : undefined;
    } else {
      node = undefined;
    }
  }
  return node;
}
