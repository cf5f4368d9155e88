// SvelteKit's adapter-node handler in a custom Express server behind compression(), as the
// adapter's docs show a custom server. SvelteKit writes an endpoint's stream without ever
// flushing compression(), so events wait in gzip's buffer until the stream ends; with
// `--plain-streams` compression() leaves event streams alone, as the README advises.
// Usage: node custom_server.mjs [--plain-streams]
import express from "express";
import compression from "compression";
import { handler } from "./build/handler.js";

const plainStreams = (req, res) =>
  !String(res.getHeader("content-type")).startsWith("text/event-stream") &&
  compression.filter(req, res);

const app = express();
app.use(compression(process.argv.includes("--plain-streams") ? { filter: plainStreams } : {}));
app.use(handler);
const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
