// A Hono app mounting keyward's handler behind Hono's compress(): served by
// @hono/node-server on Node, by Bun.serve on Bun. Usage: node hono_app.mjs CONFIG_PATH
import { Hono } from "hono";
import { compress } from "hono/compress";
import { createHandler } from "@keyward/keyward/hono";

const app = new Hono();
app.use(compress());
app.get("/hello", (c) => c.text("own route"));
app.all("/api/*", createHandler(process.argv[2]));
const listening = (port) => console.log(JSON.stringify({ listening: port }));
if (globalThis.Bun) {
  listening(globalThis.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch }).port);
} else {
  const { serve } = await import("@hono/node-server");
  serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => listening(info.port));
}
