// SvelteKit's adapter-node handler in a custom Express server behind compression(), as the
// adapter's docs show a custom server. SvelteKit writes an endpoint's stream without ever
// flushing compression(); keyward's event streams carry Cache-Control: no-transform, which
// compression() honours, so events are not held in gzip's buffer.
// Usage: node custom_server.mjs
import express from "express";
import compression from "compression";
import { handler } from "./build/handler.js";

const app = express();
app.use(compression());
app.use(handler);
const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
