/**
 * The bench beyond requests/s, against a fresh keyward in front of the in-process Deno mock:
 * SSE per-event added latency, a large upload and download with the gateway's memory growth,
 * and many concurrent open streams with memory per stream. Prints Markdown.
 *
 * @module
 */
import { startKeyward } from "./keyward.ts";
import { startDenoMock } from "./mock_deno.ts";
import { eventDelays, percentile } from "./sse_latency.ts";
import { holdStreams } from "./streams.ts";
import { download, upload } from "./transfer.ts";

/** Sizes of the extra workloads. */
export interface ExtrasOptions {
  /** SSE latency: concurrent streams, events each, spacing. */
  sse: { streams: number; events: number; spacingMs: number };
  /** Bytes to upload and to download. */
  transferBytes: number;
  /** Concurrent open streams. */
  openStreams: number;
}

/** The full sizes (`--quick` uses smaller ones). */
export const FULL: ExtrasOptions = {
  sse: { streams: 50, events: 40, spacingMs: 50 },
  transferBytes: 256 * 2 ** 20,
  openStreams: 2000,
};

/** Sizes for a short run. */
export const QUICK: ExtrasOptions = {
  sse: { streams: 20, events: 20, spacingMs: 50 },
  transferBytes: 32 * 2 ** 20,
  openStreams: 200,
};

const fixed = (n: number, digits = 2) => n.toFixed(digits);

/** Runs the extra workloads in `dir` and returns their report as Markdown. */
export async function runExtras(dir: string, options: ExtrasOptions): Promise<string> {
  const mock = await startDenoMock();
  const keyward = await startKeyward(
    dir,
    `routes:\n  - name: mock\n    path: /m\n    upstream: ${mock.url}\n` +
      `    allow: ["GET /**", "POST /**"]\n`,
  );
  const lines: string[] = [];
  try {
    const { streams, events, spacingMs } = options.sse;
    await eventDelays(`${keyward.url}/m`, { streams, events: 3, spacingMs: 10 }); // warm-up
    const direct = await eventDelays(mock.url, options.sse);
    const through = await eventDelays(`${keyward.url}/m`, options.sse);
    lines.push(
      `SSE per-event latency: ${streams} streams x ${events} events, ${spacingMs} ms apart ` +
        `(ms from the mock sending an event to the client reading it)`,
      "",
      "| path | events | p50 ms | p99 ms |",
      "| --- | ---: | ---: | ---: |",
      `| direct | ${direct.length} | ${fixed(percentile(direct, 50))} | ${
        fixed(percentile(direct, 99))
      } |`,
      `| keyward | ${through.length} | ${fixed(percentile(through, 50))} | ${
        fixed(percentile(through, 99))
      } |`,
      `| added by keyward | | ${fixed(percentile(through, 50) - percentile(direct, 50))} | ${
        fixed(percentile(through, 99) - percentile(direct, 99))
      } |`,
      "",
    );

    const mb = options.transferBytes / 2 ** 20;
    const up = await upload(`${keyward.url}/m/upload`, options.transferBytes, keyward.pid);
    const down = await download(
      `${keyward.url}/m/download?bytes=${options.transferBytes}`,
      keyward.pid,
    );
    lines.push(
      `Large bodies through keyward (${mb} MB, streamed both sides):`,
      "",
      "| transfer | MB arrived | MB/s | keyward RSS growth MB |",
      "| --- | ---: | ---: | ---: |",
      `| upload | ${fixed(up.bytes / 2 ** 20, 0)} | ${fixed(up.mbPerSecond, 0)} | ${
        fixed(up.rssGrowthMb, 1)
      } |`,
      `| download | ${fixed(down.bytes / 2 ** 20, 0)} | ${fixed(down.mbPerSecond, 0)} | ${
        fixed(down.rssGrowthMb, 1)
      } |`,
      "",
    );

    const held = await holdStreams(`${keyward.url}/m/hold`, options.openStreams, keyward.pid);
    lines.push(
      `${options.openStreams} concurrent SSE streams through keyward: ${held.open} open in ` +
        `${fixed(held.openMs, 0)} ms, RSS +${fixed(held.rssGrowthMb, 1)} MB, ` +
        `${fixed(held.kbPerStream, 1)} KB per stream`,
    );
  } finally {
    await keyward.stop();
    await mock.close();
  }
  return lines.join("\n");
}
