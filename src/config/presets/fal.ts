/**
 * fal through the `@fal-ai/server-proxy` protocol: the browser client names the upstream
 * URL in `x-fal-target-url`. Model runs and their queue are allowed; add `rest.fal.ai` to
 * `target.hosts` on the route to let the client upload input files as well.
 *
 * @module
 */
import type { Preset } from "./preset.ts";

/** The `fal` preset. */
export const fal: Preset = {
  target: { header: "x-fal-target-url", hosts: ["fal.run", "queue.fal.run"] },
  key: { env: "FAL_KEY", header: "authorization", format: "Key {key}" },
  allow: ["GET /**", "POST /**", "PUT /**"],
};
