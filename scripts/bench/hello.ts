/**
 * The floor of the startup row: a bare `Deno.serve` hello world on `127.0.0.1:PORT`, nothing
 * imported. Run as `deno run -A hello.ts PORT`.
 *
 * @module
 */
Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} },
  () => new Response("ok"),
);
