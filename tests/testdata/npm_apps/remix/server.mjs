// React Router 7 (Remix's successor) on Express 5 behind compression(), as a user serves it:
// @react-router/express turns each request into a web Request and hands it to react-router's
// own request handler, which runs the matched resource route's loader or action. The server
// build is written by hand (build.mjs) instead of by vite: it is the object the handler takes.
// Usage: node remix/server.mjs CONFIG_PATH
import express from "express";
import compression from "compression";
import { createRequestHandler } from "@react-router/express";
import { serverBuild } from "./build.mjs";

const app = express();
app.use(compression());
app.get("/hello", (_req, res) => res.send("own route"));
app.all(
  "*splat",
  createRequestHandler({
    build: serverBuild(process.argv[2]),
    mode: "production",
    // What keyward's Remix adapter documents: limits count per client by this address.
    getLoadContext: (req) => ({ clientAddress: req.socket.remoteAddress }),
  }),
);
const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
