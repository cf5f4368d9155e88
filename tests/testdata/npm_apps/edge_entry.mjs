// A Workers-style app as a user writes it: Hono with keyward's handler, bundled whole
// (dependencies included) for a runtime that has web-standard globals only.
import { Hono } from "hono";
import { createHandler } from "@keyward/keyward/hono";

export function makeApp(config, log) {
  const app = new Hono();
  app.all("/api/*", createHandler(config, undefined, { log }));
  return app;
}
