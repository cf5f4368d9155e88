/**
 * SvelteKit: save as `src/routes/api/openai/[...path]/+server.ts`. In your app, import
 * from `@keyward/keyward/svelte`.
 *
 * @module
 */
import { createHandler } from "../src/adapters/svelte.ts";

const handler = createHandler(`
routes:
  - name: openai
    path: /api/openai
    preset: openai
`);

export { handler as DELETE, handler as GET, handler as OPTIONS, handler as POST, handler as PUT };
