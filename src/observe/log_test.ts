import assert from "node:assert/strict";
import { isoNow } from "./log.ts";

Deno.test("isoNow is the current time as an ISO string", () => {
  const before = Date.now();
  const now = Date.parse(isoNow());
  assert.ok(now >= before && now <= Date.now());
  assert.match(isoNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

Deno.test("batched request lines all reach standard output, also when the process exits", async () => {
  const log = new URL("./log.ts", import.meta.url).href;
  const script = `
    import { stdoutSink } from ${JSON.stringify(log)};
    for (let i = 0; i < 3; i++) stdoutSink({ time: "t", id: String(i), method: "GET", path: "/", status: 200, duration_ms: 1 });
    if (Deno.args[0] === "exit") Deno.exit(0);
  `;
  for (const mode of ["end", "exit"]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", script, mode],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    assert.deepEqual(lines.map((line) => JSON.parse(line).id), ["0", "1", "2"], mode);
  }
});
