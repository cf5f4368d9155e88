import assert from "node:assert/strict";
import { builtPaths, packageJson, pinnedVersion } from "./package_json.ts";

const deno = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));

Deno.test("the package exports every subpath deno.json exports, with types", () => {
  const pkg = packageJson(deno) as { exports: Record<string, { types: string; default: string }> };
  assert.deepEqual(Object.keys(pkg.exports), Object.keys(deno.exports));
  assert.deepEqual(pkg.exports["./express"], {
    types: "./types/src/adapters/express.d.ts",
    default: "./esm/src/adapters/express.js",
  });
  assert.deepEqual(builtPaths("./mod.ts"), { js: "./esm/mod.js", types: "./types/mod.d.ts" });
});

Deno.test("dependencies are pinned to deno.json's exact versions", () => {
  const pkg = packageJson(deno) as { dependencies: Record<string, string> };
  for (const [name, version] of Object.entries(pkg.dependencies)) {
    assert.equal(deno.imports[name], `npm:${name}@${version}`);
  }
  assert.equal(pinnedVersion({ "@a/b": "npm:@a/b@1.2.3" }, "@a/b"), "1.2.3");
  assert.throws(() => pinnedVersion({ x: "npm:x@^1" }, "x"), /does not pin x/);
});
