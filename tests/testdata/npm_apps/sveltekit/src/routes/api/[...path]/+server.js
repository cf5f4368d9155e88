// A rest endpoint serving keyward's routes under /api, as the README shows it. The config path
// is read when the first request comes (the build imports this module to analyse it).
import { createHandler } from "@keyward/keyward/svelte";

const handler = createHandler("routes.yaml");
export const GET = handler, POST = handler, PUT = handler, DELETE = handler, OPTIONS = handler;
