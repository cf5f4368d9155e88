import assert from "node:assert/strict";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const ENTRY = new URL("./helpers/lacking_platform.ts", import.meta.url).pathname;

/** Reads event lines into `events` until one satisfies `until`; a line split across reads waits. */
function eventReader(reader: ReadableStreamDefaultReader<string>) {
  const events: Record<string, unknown>[] = [];
  let pending = "";
  let seen = 0;
  const until = async (done: (event: Record<string, unknown>) => boolean): Promise<void> => {
    for (;;) {
      while (seen < events.length) if (done(events[seen++])) return;
      const read = await reader.read();
      if (read.done) throw new Error(`The server exited: ${JSON.stringify(events)} ${pending}`);
      pending += read.value;
      let newline;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        events.push(line.startsWith("{") ? JSON.parse(line) : { text: line });
      }
    }
  };
  return { events, until };
}

/**
 * Starts the server with SIGHUP (or, for `windows`, every signal but SIGINT and SIGBREAK),
 * file watching and the per-connection server made to throw; serves one proxied request; and
 * stops it with `stopSignal`.
 */
async function serveLacking(kind: "unix" | "windows", stopSignal: Deno.Signal) {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "keyward-lacking-" });
  const config = `${dir}/routes.yaml`;
  await Deno.writeTextFile(
    config,
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ENTRY, config, kind],
    env: { OPENAI_API_KEY: "sk-server-SECRET", NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const { events, until } = eventReader(reader);
  try {
    await until((e) => e.event === "listening");
    const port = events.find((e) => e.event === "listening")!.port;
    const response = await fetch(`http://127.0.0.1:${port}/openai/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).choices[0].message.content, "Hello from the mock.");
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-server-SECRET");
    child.kill(stopSignal);
    await until((e) => e.event === "stopped");
    const status = await child.status;
    return { status, events };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited already
    }
    await child.status;
    await reader.cancel();
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (events: Record<string, unknown>[]) => events.map((e) => e.event ?? e.text);

Deno.test("without SIGHUP, file watching or the per-connection server it serves, says so once each, and stops on SIGTERM", async () => {
  const { status, events } = await serveLacking("unix", "SIGTERM");
  assert.equal(status.code, 0);
  // "listening" comes once the server is fully set up, so it follows what could not be.
  assert.deepEqual(names(events), [
    "server_timeouts_unavailable",
    "signal_unavailable",
    "watch_unavailable",
    "listening",
    "stopping",
    "stopped",
  ]);
  assert.equal(events[1].signal, "SIGHUP");
  assert.equal(events[2].error, "NotSupported");
});

Deno.test("with Windows' signals only (SIGINT and SIGBREAK) it serves and stops on SIGINT", async () => {
  const { status, events } = await serveLacking("windows", "SIGINT");
  assert.equal(status.code, 0);
  // SIGBREAK does not exist on this machine either, so neither stands in for SIGTERM here.
  assert.deepEqual(
    events.filter((e) => e.event === "signal_unavailable").map((e) => e.signal),
    ["SIGHUP", "SIGTERM"],
  );
  assert.ok(names(events).includes("stopped"));
});
