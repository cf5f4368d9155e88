/**
 * Many open SSE streams at once: opens them through the gateway, waits for the first event on
 * each, and reports the gateway's resident memory per open stream.
 *
 * @module
 */
import { rssMb } from "./keyward.ts";

/** What holding the streams cost. */
export interface StreamsResult {
  /** Streams that delivered their first event. */
  open: number;
  /** Gateway RSS with every stream open minus its RSS before, MB. */
  rssGrowthMb: number;
  /** That growth per stream, KB. */
  kbPerStream: number;
  /** Milliseconds to open them all. */
  openMs: number;
}

/** Opens `count` streams on `url` (an SSE endpoint that stays open), measures, closes them. */
export async function holdStreams(
  url: string,
  count: number,
  gatewayPid: number,
): Promise<StreamsResult> {
  const before = await rssMb(gatewayPid);
  const controllers: AbortController[] = [];
  const started = performance.now();
  const opened = await Promise.allSettled(Array.from({ length: count }, async () => {
    const controller = new AbortController();
    controllers.push(controller);
    const response = await fetch(url, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    return reader;
  }));
  const openMs = performance.now() - started;
  // let the gateway settle (its GC included) before reading its memory
  await new Promise((resolve) => setTimeout(resolve, 500));
  const during = await rssMb(gatewayPid);
  const open = opened.filter((r) => r.status === "fulfilled").length;
  for (const result of opened) {
    if (result.status === "fulfilled") await result.value.cancel().catch(() => {});
  }
  for (const controller of controllers) controller.abort();
  const growth = during - before;
  return { open, rssGrowthMb: growth, kbPerStream: (growth * 1024) / Math.max(1, open), openMs };
}
