// What every SDK script shares: where the gateway is, the client's token, and a way to
// record what a call that the gateway must refuse came back with.
export const base = process.env.GATEWAY;
export const token = process.env.CLIENT_TOKEN;

/**
 * Tells the mock (directly, not through the gateway) that the stream `name` was read up to
 * its first event: the mock sends the rest only then.
 */
export async function ack(name) {
  await fetch(`${process.env.MOCK}/ack/${name}`);
}

/** The HTTP status a call failed with, or "reached" when it succeeded. */
export async function statusOf(call) {
  try {
    await call();
    return "reached";
  } catch (error) {
    return error?.status ?? error?.statusCode ?? error?.response?.status ?? String(error);
  }
}

/** Runs `steps` in turn, recording each result; a failed step records its error and goes on. */
export async function runSteps(steps) {
  const out = {};
  for (const [name, step] of Object.entries(steps)) {
    try {
      out[name] = await step();
    } catch (error) {
      out[name] = { failed: String(error?.message ?? error), status: error?.status };
    }
  }
  console.log(JSON.stringify(out));
}

/**
 * Streams through a budgeted route until the gateway refuses (at most `most` calls): how many
 * streams went through, and the refusal's message (what the next one could use, what is left).
 */
export async function streamUntilRefused(stream, most = 80) {
  let passed = 0;
  for (let i = 0; i < most; i++) {
    try {
      await stream();
      passed++;
      // The SDK is done at the stream's last event; the gateway settles at its last byte.
      await new Promise((resolve) => setTimeout(resolve, 30));
    } catch (error) {
      const status = error?.status ?? error?.statusCode ?? error?.response?.status;
      return { passed, status, message: String(error?.message ?? error) };
    }
  }
  return { passed, status: "never refused" };
}
