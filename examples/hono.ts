/**
 * keyward mounted inside a Hono app beside its own routes. In your app, import from
 * `@keyward/keyward/hono`.
 *
 * Run: `FAL_KEY=... deno run -A examples/hono.ts`
 *
 * @module
 */
import { Hono } from "hono";
import { createHandler } from "../src/adapters/hono.ts";

const app = new Hono();
app.get("/", (c) => c.text("my app"));
app.all(
  "/api/fal/proxy",
  createHandler(`
routes:
  - name: fal
    path: /api/fal/proxy
    preset: fal
`),
);
Deno.serve({ hostname: "127.0.0.1", port: 3000 }, app.fetch);
