/**
 * `deno task npm`: builds the npm package in `dist/npm`: ES modules for Node 20+, Bun and
 * edge runtimes (`deno bundle`, one module per export sharing chunks, the dependencies left
 * as imports), `.d.ts` types, and a package.json with deno.json's subpath exports and
 * pinned dependencies. `npm pack dist/npm` makes the tarball.
 *
 * @module
 */
import { join } from "node:path";
import { type DenoJson, packageJson, RUNTIME_DEPENDENCIES } from "./npm/package_json.ts";
import { emitDeclarations, run } from "./npm/types.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const OUT = join(ROOT, "dist/npm");

/**
 * Builds the package into `out`.
 *
 * @example
 * ```ts
 * await buildNpm("dist/npm");
 * ```
 */
export async function buildNpm(out = OUT): Promise<void> {
  const deno: DenoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const pkg = packageJson(deno);
  const entries = Object.values(deno.exports).map((path) => path.replace(/^\.\//, ""));
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });

  const externals = RUNTIME_DEPENDENCIES.flatMap((name) => ["--external", name]);
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform=node",
    "--format=esm",
    "--code-splitting",
    ...externals,
    "--outdir",
    join(out, "esm"),
    ...entries,
  ], ROOT);

  const work = await Deno.makeTempDir({ prefix: "keyward-npm-types-" });
  try {
    await emitDeclarations(
      ROOT,
      entries,
      pkg.dependencies as Record<string, string>,
      join(out, "types"),
      work,
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  await Deno.writeTextFile(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  await Deno.copyFile(join(ROOT, "README.md"), join(out, "README.md"));
}

if (import.meta.main) {
  await buildNpm(Deno.args[0] ?? OUT);
  console.log(`Built ${Deno.args[0] ?? "dist/npm"}; npm pack it to make the tarball`);
}
