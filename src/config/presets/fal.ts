/**
 * fal through the `@fal-ai/server-proxy` protocol: the browser client names the upstream
 * URL in `x-fal-target-url`. Model runs and their queue are allowed; add `rest.fal.ai` to
 * `target.hosts` on the route to let the client upload input files as well.
 *
 * Every allowed path has at least two segments, as every endpoint id does (`owner/app`) and
 * the upload paths (`/storage/upload/initiate`): `rest.fal.ai`'s one-segment roots stay out,
 * above all `POST /tokens/`, which mints a token for the key's account that a client could
 * then spend on fal directly, past every limit, and `/keys`.
 *
 * @module
 */
import type { Preset } from "./preset.ts";

/** The `fal` preset. */
export const fal: Preset = {
  target: { header: "x-fal-target-url", hosts: ["fal.run", "queue.fal.run"] },
  key: { env: "FAL_KEY", header: "authorization", format: "Key {key}" },
  allow: ["GET /*/*/**", "POST /*/*/**", "PUT /*/*/**"],
  // Model endpoints take their own inputs, which no output cap names: `max_tokens` clamps
  // nothing here.
  generate: {},
  // fal bills the account that owns the key; no header or parameter picks another (its
  // platform headers, `x-fal-*`, set timeouts, retries, priority and storage only).
  strip: {
    headers: ["authorization"], // the key, as `Key <id>:<secret>`
    // The short-lived token @fal-ai/client puts on browser streams (`connectionMode: "client"`).
    query: ["fal_jwt_token"],
  },
  clientToken: [{ header: "authorization", scheme: "Key" }],
};
