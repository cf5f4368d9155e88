/**
 * Next.js App Router: save as `app/api/inference/proxy/route.ts`; the browser uses
 * `inference({ proxyUrl: "/api/inference/proxy" })`. In your app, import from
 * `@keyward/keyward/nextjs`.
 *
 * @module
 */
import { createHandler } from "../src/adapters/nextjs.ts";

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = createHandler(`
routes:
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
`);
