// An Express 5 app mounting keyward's handler, as a user writes it; `--compression` puts
// compression() in front. Usage: node express_app.mjs CONFIG_PATH [--compression]
import express from "express";
import compression from "compression";
import { createHandler } from "@keyward/keyward/express";

const app = express();
if (process.argv.includes("--compression")) app.use(compression());
app.get("/hello", (_req, res) => res.send("own route"));
app.use("/api", createHandler(process.argv[2]));
const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
