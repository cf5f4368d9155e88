/**
 * The bench's stream and transfer measurements, keyward against a direct run on the lab
 * upstream: latency added per SSE event, memory through 256 MB uploads and downloads, and
 * memory per stream with 2,000 SSE streams open.
 *
 * @module
 */
import { type KeywardProcess, startKeyward } from "./keyward.ts";
import { freePort, startListening } from "./spawn.ts";
import { download, eventDelays, holdStreams, percentile, upload } from "./stream_client.ts";

/** What the lab measured. */
export interface LabResult {
  /** SSE delay per event, ms: direct and through keyward, p50 and p99. */
  sse: { direct: [number, number]; keyward: [number, number]; events: number };
  /** 256 MB each way: MB/s direct and through keyward, and keyward's RSS growth in MB. */
  transfer: {
    upload: { direct: number; keyward: number };
    chunkedUpload: { direct: number; keyward: number };
    download: { direct: number; keyward: number };
    rssGrowthMb: number;
  };
  /** Concurrent SSE streams held through keyward, and its memory per stream in KB. */
  streams: { count: number; perStreamKb: number; rssMb: number };
}

const TRANSFER_BYTES = 256 * 1024 * 1024;

async function rssMb(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/** Starts the lab upstream on a free port. */
export async function startLabUpstream(): Promise<
  { url: string; port: number; stop(): Promise<void> }
> {
  const port = freePort();
  const script = new URL("./lab_upstream.ts", import.meta.url).pathname;
  const lab = await startListening("the lab upstream", Deno.execPath(), [
    "run",
    "--allow-net",
    script,
    `${port}`,
  ], port);
  return { url: `http://127.0.0.1:${port}`, port, stop: lab.stop };
}

async function sseDelays(base: string, streams: number, events: number): Promise<number[]> {
  const runs = await Promise.all(
    Array.from({ length: streams }, () => eventDelays(`${base}/v1/events?n=${events}&gap=10`)),
  );
  return runs.flat();
}

/**
 * Runs the lab measurements. `streams` is the number of SSE streams held at once (2,000 in a
 * full run).
 */
export async function runLab(
  dir: string,
  options: { streams: number; main?: string },
): Promise<LabResult> {
  const lab = await startLabUpstream();
  let keyward: KeywardProcess | undefined;
  try {
    keyward = await startKeyward(
      dir,
      `routes:
  - name: lab
    path: /lab
    upstream: ${lab.url}
    key: { env: BENCH_KEY }
    allow: ["GET /**", "POST /**"]
`,
      { main: options.main },
    );
    const via = `${keyward.url}/lab`;

    // Warm up both paths (as many events as are measured: the JIT has settled by then), then
    // 20 concurrent streams of 50 events 10 ms apart, each way.
    await sseDelays(lab.url, 20, 50);
    await sseDelays(via, 20, 50);
    const direct = await sseDelays(lab.url, 20, 50);
    const through = await sseDelays(via, 20, 50);

    const before = await rssMb(keyward.pid, "VmRSS");
    const transfer = {
      upload: {
        direct: await upload(`${lab.url}/v1/sink`, TRANSFER_BYTES, false),
        keyward: await upload(`${via}/v1/sink`, TRANSFER_BYTES, false),
      },
      chunkedUpload: {
        direct: await upload(`${lab.url}/v1/sink`, TRANSFER_BYTES, true),
        keyward: await upload(`${via}/v1/sink`, TRANSFER_BYTES, true),
      },
      download: {
        direct: await download(`${lab.url}/v1/source?mb=256`, TRANSFER_BYTES),
        keyward: await download(`${via}/v1/source?mb=256`, TRANSFER_BYTES),
      },
      rssGrowthMb: 0,
    };
    transfer.rssGrowthMb = (await rssMb(keyward.pid, "VmHWM")) - before;

    const idle = await rssMb(keyward.pid, "VmRSS");
    const release = await holdStreams(
      `${via}/v1/events?n=600&gap=1000`,
      options.streams,
    );
    const held = await rssMb(keyward.pid, "VmRSS");
    await release();
    return {
      sse: {
        direct: [percentile(direct, 50), percentile(direct, 99)],
        keyward: [percentile(through, 50), percentile(through, 99)],
        events: through.length,
      },
      transfer,
      streams: {
        count: options.streams,
        perStreamKb: ((held - idle) * 1024) / options.streams,
        rssMb: held,
      },
    };
  } finally {
    await keyward?.stop();
    await lab.stop();
  }
}

/** The lab results as Markdown, for the bench's output and the README. */
export function formatLab(result: LabResult): string {
  const f = (n: number, digits = 2) => n.toFixed(digits);
  const { sse, transfer, streams } = result;
  return [
    `SSE delay per event (${sse.events} events, 20 streams, 10 ms apart), ms:`,
    `  direct p50 ${f(sse.direct[0])} p99 ${f(sse.direct[1])}; ` +
    `keyward p50 ${f(sse.keyward[0])} p99 ${f(sse.keyward[1])}; ` +
    `added p50 ${f(sse.keyward[0] - sse.direct[0])} p99 ${f(sse.keyward[1] - sse.direct[1])}`,
    `256 MB upload (declared length): direct ${f(transfer.upload.direct, 0)} MB/s, keyward ${
      f(transfer.upload.keyward, 0)
    } MB/s; chunked: direct ${f(transfer.chunkedUpload.direct, 0)} MB/s, keyward ${
      f(transfer.chunkedUpload.keyward, 0)
    } MB/s`,
    `256 MB download: direct ${f(transfer.download.direct, 0)} MB/s, keyward ${
      f(transfer.download.keyward, 0)
    } MB/s; keyward RSS growth over the three transfers: ${f(transfer.rssGrowthMb, 1)} MB`,
    `${streams.count} SSE streams held open: keyward RSS ${f(streams.rssMb, 0)} MB, ` +
    `${f(streams.perStreamKb, 1)} KB per stream`,
  ].join("\n");
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "keyward-lab-" });
  try {
    console.log(formatLab(await runLab(dir, { streams: Number(Deno.args[0] ?? 2000) })));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
