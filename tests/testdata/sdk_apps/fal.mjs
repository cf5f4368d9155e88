import { createFalClient } from "@fal-ai/client";
import { base, runSteps, statusOf, token } from "./common.mjs";

// The client's credentials are its gateway token, sent as fal sends keys.
const fal = createFalClient({
  credentials: token,
  proxyUrl: { url: `${base}/fal/proxy`, when: "always" },
});

await runSteps({
  run: async () => (await fal.run("fal-ai/fast-sdxl", { input: { prompt: "a lighthouse" } })).data,
  refused: async () => ({
    token: await statusOf(() => fal.run("https://rest.alpha.fal.ai/tokens/", { input: {} })),
  }),
});
