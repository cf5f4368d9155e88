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
