import assert from "node:assert/strict";
import { quickYaml } from "./quick_yaml.ts";
import { loadWithYaml, readWithYaml } from "./load.ts";
import { quickLoad } from "./quick_load.ts";

const ENV: Record<string, string> = {
  HOST: "0.0.0.0",
  PORT: "9090",
  FLAG: "true",
  RATIO: "0.5",
  NEG: "-3",
  EMPTY: "",
  TEXT: "hello: world # not a comment",
};
const env = (name: string) => ENV[name];

/** Every path to a node of a plain value, parents first. */
function paths(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  const out = [path];
  if (Array.isArray(value)) {
    value.forEach((item, i) => out.push(...paths(item, [...path, i])));
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...path, key]));
  }
  return out;
}

/**
 * Reads `text` both ways; when the quick way answers, the `yaml` package must agree on the
 * value and on the offset of every node (and of paths that run past a node). Returns whether
 * the quick way answered.
 */
export function agree(text: string): boolean {
  const quick = quickYaml(text, env);
  if (!quick) return false;
  const full = readWithYaml(text, env);
  const where = `for ${JSON.stringify(text)}`;
  assert.equal(full.errors, false, `the quick way read YAML the yaml package refuses ${where}`);
  assert.deepEqual(full.unset, [], `an unset variable went unnoticed ${where}`);
  // An empty document is undefined to one and null to the other; the loader reads both as {}.
  assert.deepEqual(quick.value ?? null, full.doc.toJS(), `values differ ${where}`);
  for (const path of paths(quick.value)) {
    for (const probe of [path, [...path, "missing"], [...path, 0], [...path, "0"]]) {
      assert.equal(
        quick.locateOffset(probe),
        full.locateOffset(probe),
        `offsets differ at ${JSON.stringify(probe)} ${where}`,
      );
    }
  }
  return true;
}

export const ORDINARY = [
  "version: 1\nserver:\n  port: 8080\n  hostname: ${HOST:-127.0.0.1}\n",
  "a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 1.5\ng: .5\nh: 1.\ni: 1e3\nj: -1.5E-2\nk: .inf\n" +
  "l: -.Inf\nm: .NaN\nn: 007\no: 0o8\np: 0xG\nq: 1_000\nr: 1:2\ns: 12e\n",
  "a: true\nb: True\nc: TRUE\nd: false\ne: yes\nf: no\ng: on\nh: ~\ni: null\nj: Null\nk: NULL\n" +
  "l: nULL\nm: tRUE\n",
  "s: 'single ''quoted'''\nd: \"double \\\"q\\\" \\t \\u263A \\x41 \\n\"\ne: ''\nf: \"\"\n",
  "flow: { a: 1, b: [x, 'y', \"z\"], c: { d: e } }\nlist: [1, 2, [3, 4], {k: v}]\n",
  "routes:\n  - name: a\n    path: /a\n    allow: [\"GET /**\", 'POST /v1/*']\n" +
  "  - { name: b, path: /b }\n  -   name: c\n        # comment\n      path: /c\n",
  'k: a plain\n  scalar over\n  lines\nq: "a quoted\n  scalar\n\n  with a break"\n',
  "# leading comment\n\n---\nkey: value # trailing\n",
  "--- {a: 1}\n",
  "port: ${PORT}\nflag: ${FLAG}\nratio: ${RATIO}\nneg: ${NEG}\nq: '${PORT}'\n" +
  "default: ${MISSING:-8080}\nemptyDefault: ${EMPTY:-fallback}\nescaped: $${PORT}\n" +
  "mixed: a${PORT}b\ntext: ${TEXT}\nzero: ${MISSING:-}\n",
  "? explicit\n: value\n? other\n: [1]\n",
  "key with spaces: v\n\"quoted key\": v\n'single key': v\nurl: http://x.example:80/a#b\n",
  "a:\n- 1\n- 2\nb:\n  - - nested\n    - seq\n  - k: v\n    k2: v2\n",
  "toString: 1\nconstructor: 2\nhasOwnProperty: 3\nvalueOf: {}\n",
  "crlf: 1\r\nnext:\r\n  - a\r\n  - 'b'\r\n",
  "tab:\tvalue\nspaces:    value   \n",
  'unicode: ünïcödé ✓\nemoji: "\\u263A"\nregex: "\\\\d+ \\\\s"\n',
  "a: [ ]\nb: { }\nc: [a,b,]\n",
];

export const UNUSUAL = [
  "long: " + "x".repeat(2000) + "\n",
  "a: [" + "'item', ".repeat(150) + "]\n",
  "x".repeat(1100) + ": long key\n",
  "key: value\n...\n",
  "  --- {a: 1}\n",
  "\uFEFFbom: 1\n",
  'emoji: "\\U0001F600"\n',
  "a: &anchor 1\nb: *anchor\n",
  "a: !!str 1\n",
  "a: !custom x\n",
  "%YAML 1.1\n---\na: yes\n",
  "a: 1\n---\nb: 2\n",
  "a: 1\na: 2\n",
  "a: |\n  block\n",
  "a: >-\n  folded\n  text\n",
  "a:\nb: 2\n",
  "- \n- 1\n",
  "1: one\n",
  "null: x\n",
  "true: x\n",
  "[a]: x\n",
  "? [a, b]\n: x\n",
  "__proto__: { polluted: true }\n",
  "<<: { a: 1 }\n",
  "a: ${UNSET}\n",
  "${PORT}: x\n",
  "a: 1\n  b: 2\n",
  "a: [1, 2\n",
  "a: 'unterminated\n",
  'a: "bad \\q escape"\n',
  "\ta: 1\n",
  "a:\n\t- 1\n",
  "a: b: c\n",
  "a: 1 # ok\nb: 'x'# no space\n",
  "- a\nb: c\n",
  "a: @x\n",
  "a: `x\n",
  "a:\n  - 1\n - 2\n",
  "a\rb: 1\n",
  "",
  "# only a comment\n",
  "just a scalar\n",
  'a: "multi\nline" : x\n',
  "{a: 1}: x\n",
  "a: -\n",
  "? a\n",
  "a: [b: c]\n",
  "a: {b}\n",
];

Deno.test("the quick reading and the yaml package agree on ordinary YAML", () => {
  for (const text of ORDINARY) {
    assert.ok(agree(text), `not read quickly: ${JSON.stringify(text).slice(0, 200)}`);
  }
});

Deno.test("unusual YAML is left to the yaml package, or read the same", () => {
  let quick = 0;
  for (const text of UNUSUAL) if (agree(text)) quick++;
  // Most of these must give up; the ones read quickly were compared above.
  assert.ok(quick < UNUSUAL.length / 4, `${quick} of ${UNUSUAL.length} read quickly`);
});

Deno.test("every YAML block of the repository's configs and docs reads the same both ways", async () => {
  const root = new URL("../../", import.meta.url);
  const texts: string[] = [];
  for (const file of ["routes.yaml", "tests/testdata/valid.yaml", "tests/testdata/several.yaml"]) {
    texts.push(await Deno.readTextFile(new URL(file, root)));
  }
  const docs = [
    "README.md",
    ...[...Deno.readDirSync(new URL("docs/", root))]
      .filter((entry) => entry.name.endsWith(".md")).map((entry) => `docs/${entry.name}`),
  ];
  for (const doc of docs) {
    const markdown = await Deno.readTextFile(new URL(doc, root));
    for (const match of markdown.matchAll(/```ya?ml\n([\s\S]*?)```/g)) texts.push(match[1]);
  }
  let quick = 0;
  for (const text of texts) if (agree(text)) quick++;
  assert.ok(quick >= 3, `only ${quick} of ${texts.length} read quickly`);
});

/** A small seeded generator (mulberry32), so a failure can be replayed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PIECES = [
  " ",
  "  ",
  "\n",
  "\n  ",
  "\t",
  ":",
  ": ",
  "-",
  "- ",
  "#",
  " #",
  "'",
  '"',
  "{",
  "}",
  "[",
  "]",
  ",",
  "?",
  "? ",
  "&a ",
  "*a",
  "!",
  "!!str ",
  "|",
  ">",
  "%",
  "@",
  "`",
  "\\",
  "a",
  "1",
  "0x1",
  ".",
  "${PORT}",
  "${UNSET}",
  "$${",
  "true",
  "null",
  "~",
  "\r\n",
  "---",
  "...",
  "é",
  "\\",
  "\\\n",
  "\n\n",
  "\\ ",
  '"\n',
  "\u2028",
  "\u0085",
  "\x7F",
  "\u00A0",
];

Deno.test("mutated configs: whatever the quick way reads, the yaml package reads the same", () => {
  const seeds = [...ORDINARY, ...UNUSUAL];
  const next = random(20_261_205);
  let quick = 0;
  const runs = 3000;
  for (let i = 0; i < runs; i++) {
    let text = seeds[Math.floor(next() * seeds.length)];
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * (text.length + 1));
      const cut = next() < 0.4 ? Math.floor(next() * 3) : 0;
      const piece = next() < 0.8 ? PIECES[Math.floor(next() * PIECES.length)] : "";
      text = text.slice(0, at) + piece + text.slice(at + cut);
    }
    if (agree(text)) quick++;
  }
  // Enough of the mutants must take the quick way for the comparison to mean something.
  assert.ok(quick > runs / 5, `only ${quick} of ${runs} read quickly`);
});

Deno.test("a valid config loads to the same config and positions either way", async () => {
  const root = new URL("../../", import.meta.url);
  const texts = [
    await Deno.readTextFile(new URL("routes.yaml", root)),
    await Deno.readTextFile(new URL("tests/testdata/valid.yaml", root)),
    "server:\n  port: ${PORT:-8080}\n  hostname: '${HOST}'\nroutes:\n" +
    "  - name: a\n    path: /a\n    upstream: https://api.example.com\n" +
    '    allow: ["POST /v1/*"]\n    limits: { requests: 10/min, body: 1mb, timeout: 30s }\n',
  ];
  for (const text of texts) {
    const vars = (name: string) => name === "HOST" ? "127.0.0.1" : undefined;
    const quick = quickLoad(text, "routes.yaml", vars);
    assert.ok(quick, `not loaded quickly: ${text}`);
    const full = loadWithYaml(text, "routes.yaml", vars);
    assert.deepEqual(quick.config, full.config);
    for (const path of paths(full.config)) {
      assert.deepEqual(quick.locate(path), full.locate(path), JSON.stringify(path));
    }
  }
});
