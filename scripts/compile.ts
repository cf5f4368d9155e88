/**
 * `deno task compile`: builds the single executable `dist/keyward` with permissions derived
 * from the config it will serve (see `compile/permissions.ts`).
 *
 * Options: `--config FILE` (default `routes.yaml`), `--target T` (repeatable; `all` for Linux,
 * macOS and Windows on x86_64 and arm64), `--print` (show the commands, build nothing).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { derivePermissions } from "./compile/permissions.ts";

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
    config: { type: "string", default: "routes.yaml" },
    target: { type: "string", multiple: true, default: [] },
    print: { type: "boolean", default: false },
  },
});

const permissions = derivePermissions(values.config, await Deno.readTextFile(values.config));
const targets = values.target.includes("all") ? [...TARGETS] : values.target;
const builds = targets.length
  ? targets.map((target) => ({ target, output: `dist/keyward-${target}` }))
  : [{ target: undefined, output: "dist/keyward" }];

for (const { target, output } of builds) {
  const args = [
    "compile",
    "--no-check",
    // `serve --reuse-port` (several processes on one port) needs Deno's unstable net API.
    "--unstable-net",
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
console.error(
  `Built for ${values.config}; run with the same file: keyward --config ${values.config}`,
);
