/**
 * Hot-path cost of path normalisation and traversal checks.
 *
 * @module
 */
import { checkPath } from "./path.ts";

Deno.bench("path: a clean path", () => {
  checkPath("/v1/chat/completions");
});

Deno.bench("path: an encoded traversal", () => {
  checkPath("/v1/models/..%2f..%2ffiles");
});
