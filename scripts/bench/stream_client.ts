/**
 * The bench's client side for streams and transfers: per-event SSE latency, long-held SSE
 * streams, and 256 MB bodies both ways (through curl).
 *
 * @module
 */

/** Milliseconds since the epoch, comparable with the lab upstream's stamps. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Reads SSE events stamped by the lab upstream; returns each event's delay in ms. */
export async function eventDelays(url: string): Promise<number[]> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${url}: ${response.status}`);
  const delays: number[] = [];
  let pending = "";
  for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
    const arrived = now();
    pending += text;
    let end;
    while ((end = pending.indexOf("\n\n")) !== -1) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const sent = Number(/"t":([\d.]+)/.exec(event)?.[1]);
      if (Number.isFinite(sent)) delays.push(arrived - sent);
    }
  }
  return delays;
}

/** The value at percentile `p` (0–100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Posts `bytes` of zeros with curl, chunked or with a declared length (Deno's own fetch
 * uploads a stream to a streaming proxy far slower than a real client would, which would
 * measure the client); resolves to the MB/s achieved.
 */
export async function upload(url: string, bytes: number, chunked: boolean): Promise<number> {
  // With a declared length curl streams stdin as a fixed-length body, as browsers send files.
  const length = chunked ? [] : ["-H", `Content-Length: ${bytes}`, "-H", "Transfer-Encoding:"];
  const child = new Deno.Command("curl", {
    args: ["-sS", "-X", "POST", "-T", "-", ...length, "-w", "\n%{speed_upload}", url],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const chunk = new Uint8Array(1024 * 1024);
  for (let left = bytes; left > 0; left -= chunk.byteLength) {
    await writer.write(left >= chunk.byteLength ? chunk : chunk.subarray(0, left));
  }
  await writer.close();
  const out = new TextDecoder().decode((await child.output()).stdout).trim().split("\n");
  const received = JSON.parse(out[0]).bytes;
  if (received !== bytes) throw new Error(`upload: the upstream got ${received} of ${bytes} bytes`);
  return Number(out[1]) / 1024 / 1024;
}

/** Reads a body to its end with curl; resolves to the MB/s achieved. */
export async function download(url: string, bytes: number): Promise<number> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", url],
    stdout: "piped",
  }).output();
  const [received, speed] = new TextDecoder().decode(out.stdout).split(" ").map(Number);
  if (received !== bytes) throw new Error(`download: got ${received} of ${bytes} bytes`);
  return speed / 1024 / 1024;
}

/**
 * Opens `count` SSE streams at once and waits until each has delivered its first event;
 * returns a function that cancels them all.
 */
export async function holdStreams(url: string, count: number): Promise<() => Promise<void>> {
  const readers = await Promise.all(Array.from({ length: count }, async () => {
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new Error(`${url}: ${response.status}`);
    const reader = response.body.getReader();
    await reader.read();
    return reader;
  }));
  return async () => {
    await Promise.all(readers.map((reader) => reader.cancel().catch(() => {})));
  };
}
