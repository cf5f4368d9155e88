import assert from "node:assert/strict";
import { detectPlatform, platform } from "./mod.ts";
import { loadConfigText } from "../config/load.ts";
import { incoherent } from "../config/coherence.ts";

Deno.test("Deno is detected on Deno, and reads its environment and files", async () => {
  assert.equal(platform.name, "deno");
  Deno.env.set("KEYWARD_PLATFORM_TEST", "yes");
  assert.equal(platform.env("KEYWARD_PLATFORM_TEST"), "yes");
  const file = await Deno.makeTempFile();
  await Deno.writeTextFile(file, "text");
  assert.equal(await platform.readTextFile(file), "text");
  assert.equal(platform.readTextFileSync(file), "text");
});

Deno.test("a scope with a Node process is node, one with neither global is web", () => {
  assert.equal(detectPlatform({ process: globalThis.process }).name, "node");
  assert.equal(detectPlatform({ process: globalThis.process }).env("PATH"), Deno.env.get("PATH"));
  const web = detectPlatform({});
  assert.equal(web.name, "web");
  assert.equal(web.env("PATH"), undefined);
  assert.throws(() => web.readTextFileSync("/etc/hostname"), /No file system/);
  assert.equal(web.batchOutput, false);
});

Deno.test("store kind kv is refused outside Deno, at its line", () => {
  const text =
    "routes:\n  - { name: a, path: /a, upstream: https://example.com, allow: ['GET /**'] }\n" +
    "store:\n  kind: kv\n";
  const { config, locate } = loadConfigText(text, "routes.yaml");
  assert.deepEqual(incoherent(config, "deno"), []);
  const [issue] = incoherent(config, "node");
  assert.deepEqual(issue.path, ["store", "kind"]);
  assert.match(issue.message, /kv needs Deno/);
  assert.equal(locate(issue.path).line, 4);
});
