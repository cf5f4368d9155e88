// A TypeScript app using every export of the package: tsc must accept it against the
// package's .d.ts (with skipLibCheck off), and the @ts-expect-error proves the types are not any.
import express from "express";
import { ConfigError, createGateway, type Gateway, type RequestRecord } from "@keyward/keyward";
import { createHandler } from "@keyward/keyward/express";
import { createHandler as honoHandler } from "@keyward/keyward/hono";
import { createHandler as nextHandler, createPagesHandler } from "@keyward/keyward/nextjs";
import { createHandler as remixHandler } from "@keyward/keyward/remix";
import { createHandler as svelteHandler } from "@keyward/keyward/svelte";

const records: RequestRecord[] = [];
const gateway: Gateway = await createGateway("routes.yaml", undefined, {
  log: (record) => records.push(record),
  readers: { env: (name) => process.env[name] },
});
const response: Response = await gateway.fetch(new Request("http://x/healthz"));
const app = express();
app.use("/api", createHandler("routes.yaml", { authorize: () => "me" }, { upstreamFetch: fetch }));
const { GET } = nextHandler("routes.yaml");
const pages = createPagesHandler("routes.yaml");
const r = remixHandler("routes.yaml");
const s = svelteHandler("routes.yaml");
const h = honoHandler("routes.yaml");
// @ts-expect-error: the config is text, a path, a URL or an object
createGateway(42);
export const used = [ConfigError.name, response.status, GET, pages, r, s, h, gateway.config.routes.length];
