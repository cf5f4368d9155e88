/**
 * CPU time per request: the user and system time a process (all its threads) spent across a
 * load run, read from `/proc/PID/stat`, divided by the requests the run completed. Unlike
 * requests/s it hardly moves when the machine is busy with something else, so it is the figure
 * changes are judged by.
 *
 * @module
 */

/** Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time of the processes so far, in microseconds. */
export async function cpuMicros(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]); // utime (14), stime (15)
  }
  return ticks * (1_000_000 / TICKS_PER_SECOND);
}

/** Runs `load` and returns its result with the processes' CPU microseconds per request. */
export async function measureCpu<T extends { requests: number }>(
  pids: readonly number[],
  load: () => Promise<T>,
): Promise<T & { cpuUs?: number }> {
  if (pids.length === 0) return await load();
  const before = await cpuMicros(pids);
  const result = await load();
  const spent = (await cpuMicros(pids)) - before;
  return { ...result, cpuUs: result.requests > 0 ? spent / result.requests : undefined };
}
