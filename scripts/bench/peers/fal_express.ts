/**
 * Bench peer: fal's `@fal-ai/server-proxy` on Express, as its docs set it up, aimed at the
 * mock upstream. Bundled for Node by the bench.
 *
 * @module
 */
import process from "node:process";
import express from "express";
import { createHandler } from "@fal-ai/server-proxy/express";

const app = express();
app.use(express.json());
app.all(
  "/api/fal/proxy",
  createHandler({
    allowUnauthorizedRequests: true,
    allowedUrlPatterns: ["127.0.0.1:*/**"],
    allowedEndpoints: ["**"],
    resolveFalAuth: () => Promise.resolve("Key sk-bench"),
  }),
);
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: Number(process.env.PORT) }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
