/**
 * SSE per-event latency: many concurrent streams of spaced events, each event stamped by the
 * mock when sent; the delay of every event is its arrival time minus its stamp. Run once
 * direct and once through keyward, the difference of the percentiles is what keyward adds.
 *
 * @module
 */

/** Options for one run. */
export interface SseLatencyOptions {
  /** Concurrent streams. */
  streams: number;
  /** Events per stream. */
  events: number;
  /** Milliseconds between a stream's events. */
  spacingMs: number;
}

/** The delays of every event of every stream, in ms. */
export async function eventDelays(base: string, options: SseLatencyOptions): Promise<number[]> {
  const url = `${base}/timed?events=${options.events}&spacing=${options.spacingMs}`;
  const delays: number[] = [];
  const one = async () => {
    const response = await fetch(url);
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of response.body!) {
      const now = performance.now();
      pending += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = pending.indexOf("\n\n")) !== -1) {
        const event = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const sent = Number(/"t":([\d.]+)/.exec(event)?.[1]);
        if (Number.isFinite(sent)) delays.push(now - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: options.streams }, one));
  return delays;
}

/** The p-th percentile (0-100) of some numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at];
}
