/**
 * The package's `.d.ts` files, emitted by TypeScript's own compiler (Deno emits no
 * declarations). The sources are copied beside a node_modules holding the compiler, Node's
 * types and the library's dependencies at their pinned versions, so types are inferred from
 * the real packages; imports are rewritten from `.ts` to `.js`, and only the declarations
 * the entry points reach are kept.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";

/** TypeScript and Node's types, the compiler's own tools (never in the package). */
export const TYPES_TOOLCHAIN: Record<string, string> = {
  typescript: "5.9.3",
  "@types/node": "20.19.43",
};

/** Runs a command, throwing with its output when it fails or outlasts `timeoutMs`. */
export async function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs = 5 * 60_000,
): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  }
}

async function copyTree(from: string, to: string, keep: (path: string) => boolean) {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    if (entry.isDirectory) await copyTree(source, join(to, entry.name), keep);
    else if (keep(source)) await Deno.copyFile(source, join(to, entry.name));
  }
}

const SPECIFIER = /((?:from|import)\s*\(?\s*")(\.{1,2}\/[^"]+?)\.ts(")/g;

/** Rewrites relative `.ts` specifiers in a declaration file to `.js`. */
export function rewriteSpecifiers(text: string): string {
  return text.replace(SPECIFIER, "$1$2.js$3");
}

/** The relative `.js` modules a declaration file imports, as `.d.ts` paths beside it. */
export function importedDeclarations(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)\.js"/g)) {
    found.push(join(dirname(file), `${match[1]}.d.ts`));
  }
  return found;
}

/**
 * Emits the declarations of `entries` (paths relative to `root`) into `outDir`, building in
 * `work` (a scratch directory).
 */
export async function emitDeclarations(
  root: string,
  entries: readonly string[],
  dependencies: Record<string, string>,
  outDir: string,
  work: string,
): Promise<void> {
  await copyTree(
    join(root, "src"),
    join(work, "src"),
    (path) => path.endsWith(".ts") && !/_(test|bench)\.ts$/.test(path),
  );
  await Deno.copyFile(join(root, "mod.ts"), join(work, "mod.ts"));
  await Deno.writeTextFile(
    join(work, "package.json"),
    JSON.stringify({
      private: true,
      type: "module",
      dependencies: { ...dependencies, ...TYPES_TOOLCHAIN },
    }),
  );
  await run("npm", [
    "install",
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
  ], work);
  await Deno.writeTextFile(
    join(work, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        module: "esnext",
        moduleResolution: "bundler",
        lib: ["es2023", "dom", "dom.iterable"],
        types: ["node"],
        strict: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        declaration: true,
        emitDeclarationOnly: true,
        // Deno's globals (in the standalone server's modules) are unknown to tsc: emit
        // without checking; `deno check` is what checks this code.
        noCheck: true,
        rootDir: ".",
        outDir: "types",
      },
      files: entries,
    }),
  );
  await run("node", ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], work);

  // Keep what the entry points reach, with `.js` specifiers.
  const emitted = join(work, "types");
  const queue = entries.map((entry) => join(emitted, entry.replace(/\.ts$/, ".d.ts")));
  const kept = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (kept.has(file)) continue;
    kept.add(file);
    const text = rewriteSpecifiers(await Deno.readTextFile(file));
    const target = join(outDir, relative(emitted, file));
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, text);
    queue.push(...importedDeclarations(file, text));
  }
}
