import assert from "node:assert/strict";
import { assetsModule } from "../../scripts/visitor_assets.ts";

Deno.test("assets.ts is what deno task visitor-assets writes from the browser sources and the pinned package", async () => {
  const current = await Deno.readTextFile(new URL("./assets.ts", import.meta.url));
  assert.ok(current === await assetsModule(), "out of date: run deno task visitor-assets");
});
