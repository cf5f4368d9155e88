/**
 * A fresh Node project with keyward installed the way a user installs it: the npm package
 * built by `deno task npm`, packed with `npm pack`, installed from the tarball with
 * `npm install` beside the frameworks a test names.
 *
 * @module
 */
import { dirname } from "node:path";
import { buildNpm } from "../../scripts/npm.ts";
import { run } from "../../scripts/npm/types.ts";

/** A project directory with keyward and the named packages in its node_modules. */
export interface NpmProject {
  /** The project directory. */
  dir: string;
  /** Removes the project and the build. */
  remove(): Promise<void>;
}

/**
 * Builds, packs and installs keyward and `packages` (exact versions, e.g. `express@5.3.0`)
 * into a new temp project; `files` (relative path to text) are written into it.
 */
export async function npmProject(
  packages: readonly string[],
  files: Record<string, string> = {},
): Promise<NpmProject> {
  const root = await Deno.makeTempDir({ prefix: "keyward-npm-" });
  const dir = `${root}/app`;
  try {
    await buildNpm(`${root}/package`);
    await run(
      "npm",
      ["pack", "--loglevel=error", "--pack-destination", root, `${root}/package`],
      root,
    );
    const tarball = [...Deno.readDirSync(root)].find((entry) => entry.name.endsWith(".tgz"))!;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ private: true, type: "module" }),
    );
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(dirname(`${dir}/${name}`), { recursive: true });
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `${root}/${tarball.name}`,
      ...packages,
    ], dir);
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
  return { dir, remove: () => Deno.remove(root, { recursive: true }) };
}

/** Reads every file under `dir` as relative path to text, for {@linkcode npmProject}. */
export async function filesUnder(dir: string, prefix = ""): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) Object.assign(files, await filesUnder(path, `${prefix}${entry.name}/`));
    else files[`${prefix}${entry.name}`] = await Deno.readTextFile(path);
  }
  return files;
}
