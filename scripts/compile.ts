/**
 * `deno task compile`: builds the single executable `dist/keyward`.
 *
 * - `--config FILE` (default `routes.yaml`): a binary locked to that file, with permissions
 *   derived from it (see `src/server/permissions.ts`): it reaches only the hosts the file names,
 *   reads only the variables and files it names.
 * - `--release`: the release binaries, which serve any routes.yaml at any path
 *   (`RELEASE_PERMISSIONS`); what `.github/workflows/release.yml` builds.
 *
 * `--target T` (repeatable; `all` for Linux, macOS and Windows on x86_64 and arm64) builds
 * `dist/keyward-T`; `--print` shows the commands and builds nothing.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { derivePermissions, RELEASE_PERMISSIONS } from "../src/server/permissions.ts";

/** Every target `deno compile` can build. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string" },
    release: { type: "boolean", default: false },
    target: { type: "string", multiple: true, default: [] },
    print: { type: "boolean", default: false },
  },
});

if (values.release && values.config) {
  console.error("Give either --release (any config) or --config FILE (locked to FILE), not both");
  Deno.exit(2);
}
const config = values.config ?? "routes.yaml";
const permissions = values.release
  ? [...RELEASE_PERMISSIONS]
  : derivePermissions(config, await Deno.readTextFile(config));
const targets = values.target.includes("all") ? [...TARGETS] : values.target;
const builds = targets.length
  ? targets.map((target) => ({ target, output: `dist/keyward-${target}` }))
  : [{ target: undefined, output: "dist/keyward" }];

for (const { target, output } of builds) {
  const args = [
    "compile",
    "--no-check",
    ...permissions,
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    "main.ts",
  ];
  console.log(`deno ${args.join(" ")}`);
  if (values.print) continue;
  const { success } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit" })
    .output();
  if (!success) Deno.exit(1);
}
if (!values.print) {
  console.error(
    values.release
      ? "Built release binaries: they serve any routes.yaml (keyward --config FILE)"
      : `Built for ${config}; run with the same file: keyward --config ${config}`,
  );
}
