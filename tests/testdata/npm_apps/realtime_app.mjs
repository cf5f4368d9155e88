// Realtime sessions through the npm package, as users wire them: on Node, an Express app
// whose server hands its `upgrade` event to keyward's handler; on Bun, Bun.serve with the
// gateway's fetch and websocket handlers. Usage: node|bun realtime_app.mjs CONFIG_PATH
const config = process.argv[2];
const listening = (port) => console.log(JSON.stringify({ listening: port }));
if (globalThis.Bun) {
  const { createGateway } = await import("@keyward/keyward");
  const gateway = await createGateway(config);
  const server = globalThis.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: gateway.fetch,
    websocket: gateway.websocket,
  });
  listening(server.port);
} else {
  const { default: express } = await import("express");
  const { createHandler } = await import("@keyward/keyward/express");
  const app = express();
  const keyward = createHandler(config);
  app.get("/hello", (_req, res) => res.send("own route"));
  app.use(keyward);
  const server = app.listen(0, "127.0.0.1", () => listening(server.address().port));
  server.on("upgrade", keyward.upgrade);
}
