/**
 * Bench peer: the inference.sh SDK's own proxy on Express, as its docs set it up, aimed at
 * the mock upstream. Bundled for Node by the bench (the SDK's extensionless imports load in
 * neither Deno nor plain Node ESM unbundled).
 *
 * @module
 */
import process from "node:process";
import express from "express";
import { createHandler } from "@inferencesh/sdk/proxy/express";

const app = express();
app.use(express.json());
app.all(
  "/api/inference/proxy",
  // The handler reads allowedDomains (extra target hosts) though its typings leave it out.
  createHandler(
    { apiKey: "sk-bench", allowedDomains: [/^127\.0\.0\.1(:\d+)?$/] } as Parameters<
      typeof createHandler
    >[0],
  ),
);
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: Number(process.env.PORT) }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
