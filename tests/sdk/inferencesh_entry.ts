/**
 * Entry for a `deno bundle` of `@inferencesh/sdk`, whose extensionless imports load in
 * neither Deno nor plain Node ESM; the bundler resolves them.
 *
 * @module
 */
export { Inference } from "@inferencesh/sdk";
