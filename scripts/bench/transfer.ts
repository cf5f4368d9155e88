/**
 * Large bodies through the gateway: an upload and a download of many megabytes, streamed on
 * both sides (never held whole), with the throughput and how far the gateway's resident memory
 * rose while the bytes went through.
 *
 * @module
 */
import { rssMb } from "./keyward.ts";

/** What one transfer measured. */
export interface TransferResult {
  /** Bytes that arrived at the other end. */
  bytes: number;
  /** Megabytes (2^20 bytes) per second. */
  mbPerSecond: number;
  /** Highest gateway RSS seen during the transfer minus its RSS before, MB. */
  rssGrowthMb: number;
}

/** Samples a process's RSS every 20 ms until stopped; returns the highest value. */
function sampleRss(pid: number): { stop(): Promise<number> } {
  let highest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      highest = Math.max(highest, await rssMb(pid));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(highest, await rssMb(pid));
    },
  };
}

function zeros(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024);
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      controller.enqueue(part);
    },
  }, { highWaterMark: 0 });
}

async function measured(pid: number, run: () => Promise<number>): Promise<TransferResult> {
  const before = await rssMb(pid);
  const sampler = sampleRss(pid);
  const started = performance.now();
  const bytes = await run();
  const seconds = (performance.now() - started) / 1000;
  const highest = await sampler.stop();
  return { bytes, mbPerSecond: bytes / 2 ** 20 / seconds, rssGrowthMb: highest - before };
}

/** Uploads `bytes` zero bytes as a streamed (chunked) body to `url`, which answers `{bytes}`. */
export function upload(url: string, bytes: number, gatewayPid: number): Promise<TransferResult> {
  return measured(gatewayPid, async () => {
    const response = await fetch(url, {
      method: "POST",
      body: zeros(bytes),
      headers: { "content-type": "application/octet-stream" },
    });
    const json = await response.json();
    return Number(json.bytes);
  });
}

/** Downloads `url` and counts its bytes without keeping them. */
export function download(url: string, gatewayPid: number): Promise<TransferResult> {
  return measured(gatewayPid, async () => {
    const response = await fetch(url);
    let bytes = 0;
    for await (const chunk of response.body!) bytes += chunk.byteLength;
    return bytes;
  });
}
