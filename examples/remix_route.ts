/**
 * Remix / React Router: save as `app/routes/api.anthropic.$.ts`; one handler serves as
 * both loader (GET) and action (POST). In your app, import from `@keyward/keyward/remix`.
 *
 * @module
 */
import { createHandler } from "../src/adapters/remix.ts";

const handler = createHandler(`
routes:
  - name: anthropic
    path: /api/anthropic
    preset: anthropic
`);

export { handler as action, handler as loader };
