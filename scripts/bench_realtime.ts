/**
 * `deno task bench:realtime`: what a realtime session costs through keyward. A stand-in
 * provider echoes every frame (`bench/realtime_echo.ts`, its own process); keyward
 * (`main.ts serve`, its own process) relays to it; this process is the client (npm `ws`,
 * which sends each frame at once). For three kinds of frame (a 200-byte text event, a 16 KB
 * audio append in JSON, 4 KiB of binary), directly and through keyward, with and without frame
 * rules (a model list and an output clamp, so every client frame is parsed):
 *
 * - the round trip of one frame at a time (1,000 after 100 to warm up): a round trip crosses
 *   keyward twice, so (through − direct) / 2 is what it adds to each frame;
 * - frames per second with 256 in flight (10,000 echoed);
 * - keyward's resident memory per open, idle session (`--sessions`, 500 by default).
 *
 * Options: `--quick` (fewer frames, 100 sessions), `--sessions N`, `--json`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import WebSocketClient from "ws";
import { startKeyward } from "./bench/keyward.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    sessions: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const quick = values.quick;
const ROUND_TRIPS = quick ? 200 : 1_000;
const FRAMES = quick ? 2_000 : 10_000;
const SESSIONS = Number(values.sessions ?? (quick ? 100 : 500));

/** Starts the echo provider in its own process; resolves with its port. */
async function startEcho() {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("./bench/realtime_echo.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the echo provider exited");
    text += value;
  }
  reader.releaseLock();
  return { port: JSON.parse(text).port as number, child };
}

function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

type Socket = InstanceType<typeof WebSocketClient>;

function open(url: string, protocols: string[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(url, protocols, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

async function close(ws: Socket) {
  const closed = new Promise((resolve) => ws.once("close", resolve));
  ws.close();
  await closed;
}

async function roundTrips(url: string, protocols: string[], frame: string | Uint8Array) {
  const ws = await open(url, protocols);
  const times: number[] = [];
  for (let i = 0; i < 100 + ROUND_TRIPS; i++) {
    const sent = performance.now();
    await new Promise((resolve) => {
      ws.once("message", resolve);
      ws.send(frame);
    });
    if (i >= 100) times.push(performance.now() - sent);
  }
  await close(ws);
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)] };
}

async function framesPerSecond(url: string, protocols: string[], frame: string | Uint8Array) {
  const ws = await open(url, protocols);
  let received = 0;
  let sent = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    ws.on("message", () => {
      received++;
      if (received === FRAMES) resolve();
      else if (sent < FRAMES) {
        ws.send(frame);
        sent++;
      }
    });
    for (; sent < Math.min(256, FRAMES); sent++) ws.send(frame);
  });
  const seconds = (performance.now() - started) / 1000;
  await close(ws);
  return Math.round(FRAMES / seconds);
}

const echo = await startEcho();
const dir = await Deno.makeTempDir({ prefix: "keyward-bench-realtime-" });
const route = (name: string, rules: boolean) =>
  `  - name: ${name}\n    path: /${name}\n    preset: openai\n` +
  `    upstream: http://127.0.0.1:${echo.port}\n    key: { env: BENCH_KEY }\n` +
  (rules ? "    body: { models: [gpt-realtime], max_tokens: 500 }\n" : "");
const keyward = await startKeyward(dir, `routes:\n${route("plain", false)}${route("ruled", true)}`);
const ws = keyward.url.replace("http:", "ws:");
const query = "/v1/realtime?model=gpt-realtime";
const direct = `ws://127.0.0.1:${echo.port}${query}`;
const protocols = ["realtime"];

const text = JSON.stringify({
  type: "response.output_text.delta",
  event_id: "event_0000000000",
  response_id: "resp_000000",
  item_id: "item_000000",
  output_index: 0,
  content_index: 0,
  delta: "x".repeat(60),
});
const audio = JSON.stringify({ type: "input_audio_buffer.append", audio: "A".repeat(16_000) });
const binary = new Uint8Array(4096);
const kinds = [["text 200 B", text], ["audio JSON 16 KB", audio], [
  "binary 4 KiB",
  binary,
]] as const;

const results: Record<string, unknown>[] = [];
for (const [kind, frame] of kinds) {
  const row: Record<string, unknown> = { kind };
  const base = await roundTrips(direct, protocols, frame);
  const plain = await roundTrips(`${ws}/plain${query}`, protocols, frame);
  row.rtt_direct_p50 = base.p50;
  row.rtt_keyward_p50 = plain.p50;
  row.rtt_keyward_p99 = plain.p99;
  row.added_per_frame_ms = (plain.p50 - base.p50) / 2;
  if (typeof frame === "string") {
    const ruled = await roundTrips(`${ws}/ruled${query}`, protocols, frame);
    row.added_per_frame_rules_ms = (ruled.p50 - base.p50) / 2;
  }
  row.fps_direct = await framesPerSecond(direct, protocols, frame);
  row.fps_keyward = await framesPerSecond(`${ws}/plain${query}`, protocols, frame);
  if (typeof frame === "string") {
    row.fps_keyward_rules = await framesPerSecond(`${ws}/ruled${query}`, protocols, frame);
  }
  results.push(row);
}

// Memory per open session: keyward's resident memory with SESSIONS idle sessions open.
await new Promise((resolve) => setTimeout(resolve, 500));
const before = rssKb(keyward.pid);
const sockets: Socket[] = [];
for (let i = 0; i < SESSIONS; i++) sockets.push(await open(`${ws}/plain${query}`, protocols));
await new Promise((resolve) => setTimeout(resolve, 1000));
const during = rssKb(keyward.pid);
await Promise.all(sockets.map(close));
const memory = { sessions: SESSIONS, per_session_kb: Math.round((during - before) / SESSIONS) };

await keyward.stop();
echo.child.kill("SIGTERM");
await echo.child.status;
await Deno.remove(dir, { recursive: true });

if (values.json) console.log(JSON.stringify({ results, memory }, null, 2));
else {
  const ms = (value: unknown) => typeof value === "number" ? value.toFixed(2) : "–";
  const k = (value: unknown) => typeof value === "number" ? `${(value / 1000).toFixed(1)}k` : "–";
  console.log(
    "| frame | round trip p50, direct → keyward (ms) | added per frame (ms) | with rules | " +
      "frames/s direct | keyward | with rules |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const row of results) {
    console.log(
      `| ${row.kind} | ${ms(row.rtt_direct_p50)} → ${ms(row.rtt_keyward_p50)} | ` +
        `${ms(row.added_per_frame_ms)} | ${ms(row.added_per_frame_rules_ms)} | ` +
        `${k(row.fps_direct)} | ${k(row.fps_keyward)} | ${k(row.fps_keyward_rules)} |`,
    );
  }
  console.log(`\nMemory: ${memory.per_session_kb} KB per open session (${memory.sessions} open).`);
}
