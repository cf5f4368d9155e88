import assert from "node:assert/strict";
import { loadSnapshot } from "../src/money/prices.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const snapshot = await loadSnapshot();
const origin = `@pydantic/genai-prices@${snapshot.version} (MIT, generated ${snapshot.generated})`;

async function run(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function config(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-prices-" });
  await Deno.writeTextFile(`${dir}/routes.yaml`, text);
  return `${dir}/routes.yaml`;
}

const ROUTE =
  "routes:\n  - { name: m, path: /m, upstream: https://api.openai.com, allow: ['GET /**'] }\n";

Deno.test("prices lists every model of the built-in table, naming its source and date", async () => {
  const result = await run(["prices"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes(`snapshot: the built-in table, ${origin}`), result.stdout);
  assert.match(
    result.stdout,
    /MODEL\s+INPUT\s+CACHED_INPUT\s+CACHE_WRITE\s+CACHE_WRITE_1H\s+OUTPUT\s+SOURCE\s+OTHER/,
  );
  assert.match(result.stdout, /\ngpt-4o-mini\s+0\.15\s+0\.075\s+-\s+-\s+0\.6\s+snapshot\s+-\n/);
  assert.match(
    result.stdout,
    /\nclaude-sonnet-4-5\s+3\*\s+0\.3\*\s+3\.75\*\s+6\*\s+15\*\s+snapshot/,
  );
  assert.match(
    result.stdout,
    /\ngemini-2\.5-flash\s+0\.3\s+0\.03\s+-\s+-\s+2\.5\s+snapshot\s+audio_input 1,/,
  );
});

Deno.test("prices --model shows the price a name is charged at, per kind, and its origin", async () => {
  const result = await run(["prices", "--model", "gpt-4o-mini-2024-07-18"]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.equal(lines[0], `gpt-4o-mini-2024-07-18: priced as gpt-4o-mini, from snapshot ${origin}`);
  assert.match(result.stdout, /\n {2}cached_input\s+0\.075\n/);
  assert.match(result.stdout, /\n {2}cache_write\s+0\.15\s+as input\n/);
  assert.match(result.stdout, /\n {2}reasoning\s+0\.6\s+as output\n/);
  const tiered = await run(["prices", "--model=models/gemini-2.5-pro"]);
  assert.match(tiered.stdout, /\n {2}input\s+1\.25 \(2\.5 above 200000\)\n/);
});

Deno.test("prices --model exits 1 naming prices: for a model without a price", async () => {
  const result = await run(["prices", "--model", "my-finetune"]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /No price for model "my-finetune": add it under prices: in the config/,
  );
  const bad = await run(["prices", "--modle", "x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown option "--modle"[\s\S]*keyward prices \[--model M\]/);
});

Deno.test("prices --config reads a config; one with errors exits 1", async () => {
  const plain = await run(["prices", "--config", await config(ROUTE), "--model", "gpt-4o"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^gpt-4o: priced as gpt-4o, from snapshot/);
  const broken = await run(["prices", "--config", await config("routes: []\n")]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /routes\.yaml:1:\d+ /);
});

Deno.test({
  name: "prices --config applies the file's prices: over the table",
  fn: async () => {
    const file = await config(
      "prices:\n  gpt-4o-mini: { input: 0.1, output: 0.5 }\n" +
        "  my-finetune: { input: 1.00, output: 4.00, cached_input: 0.5 }\n" + ROUTE,
    );
    const list = await run(["prices", "--config", file]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /\nmy-finetune\s+1\s+0\.5\s+-\s+-\s+4\s+prices: in .*routes\.yaml/);
    assert.match(list.stdout, /\ngpt-4o-mini\s+0\.1\s+-\s+-\s+-\s+0\.5\s+prices: in/);
    const dated = await run(["prices", "--config", file, "--model", "gpt-4o-mini-2024-07-18"]);
    assert.match(
      dated.stdout,
      /^gpt-4o-mini-2024-07-18: priced as gpt-4o-mini, from prices: in .*routes\.yaml, replacing the table's gpt-4o-mini/,
    );
    const missing = await run(["prices", "--config", file, "--model", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /add it under prices: in .*routes\.yaml/);
    const wrong = await run([
      "prices",
      "--config",
      await config("prices:\n  m: { input: 0.123456789, output: 1 }\n" + ROUTE),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /0\.123456789|8 decimals/);
  },
});
