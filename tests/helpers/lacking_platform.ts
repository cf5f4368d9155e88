/**
 * An entry module that runs the standalone server on a platform lacking what some hosts lack:
 * before the server is imported, `Deno.addSignalListener`, `Deno.watchFs` and the runtime's
 * per-connection HTTP server are replaced with functions that throw, the way Windows throws
 * for SIGHUP and SIGTERM and a sandboxed host throws for file watching.
 *
 * ```sh
 * deno run -A tests/helpers/lacking_platform.ts CONFIG windows|unix
 * ```
 *
 * `windows` accepts SIGINT and SIGBREAK only; `unix` accepts every signal but SIGHUP.
 *
 * @module
 */
const [configPath, kind] = Deno.args;

const addSignalListener = Deno.addSignalListener;
const windows = new Set<Deno.Signal>(["SIGINT", "SIGBREAK"]);
Deno.addSignalListener = (signal, handler) => {
  if (kind === "windows" ? !windows.has(signal) : signal === "SIGHUP") {
    throw new TypeError(`Windows only supports ctrl-c (SIGINT) and ctrl-break (SIGBREAK)`);
  }
  return addSignalListener(signal, handler);
};
Deno.watchFs = () => {
  throw new Deno.errors.NotSupported("File watching is not available here");
};
// deno-lint-ignore no-explicit-any
const internal = (Deno as any)[(Deno as any).internal];
Object.defineProperty(internal, "serveHttpOnConnection", {
  get() {
    throw new TypeError("Deno internals are not available here");
  },
});

const { serve } = await import("../../src/server.ts");
const server = await serve({ configPath, port: 0, hostname: "127.0.0.1" });
await server.finished;
