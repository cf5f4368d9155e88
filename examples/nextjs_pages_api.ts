/**
 * Next.js Pages Router: save as `pages/api/openai/[...path].ts`. With the body parser off,
 * uploads stream straight through. In your app, import from `@keyward/keyward/nextjs`.
 *
 * @module
 */
import { createPagesHandler } from "../src/adapters/nextjs.ts";

/** Next.js route config: let the body stream instead of being parsed. */
export const config = { api: { bodyParser: false } };

export default createPagesHandler(`
routes:
  - name: openai
    path: /api/openai
    preset: openai
`);
