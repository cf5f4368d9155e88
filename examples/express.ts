/**
 * keyward inside an Express app: browser SDKs call `/api/...` on the app's own origin.
 * In your app, import from `@keyward/keyward/express`.
 *
 * Run: `OPENAI_API_KEY=sk-... deno run -A examples/express.ts`
 *
 * @module
 */
import express from "express";
import { createHandler } from "../src/adapters/express.ts";

const app = express();
app.use(
  "/api",
  createHandler(`
routes:
  - name: openai
    path: /api/openai
    preset: openai
`),
);
app.listen(3000, "127.0.0.1", () => console.log("http://127.0.0.1:3000/api/openai/v1/..."));
