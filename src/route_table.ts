/**
 * Finds the route for a request path in time that does not grow with the number of routes:
 * exact paths (target mode, and a prefix itself) in one map, prefixes in another, tried from
 * the longest candidate to the shortest, so the most specific route wins, as in nginx.
 *
 * @module
 */

/** Routes by path. */
export class RouteTable<T> {
  readonly #exact = new Map<string, T>();
  readonly #prefixes = new Map<string, T>();
  #root?: T;

  /**
   * Adds a route: in path mode `path` and everything under it, in target mode `path` only.
   * `/` in path mode takes every path no other route does.
   */
  add(path: string, mode: "path" | "target", value: T): void {
    if (mode === "target") {
      this.#exact.set(path, value);
    } else if (path === "/") {
      this.#root = value;
    } else {
      this.#exact.set(path, value);
      this.#prefixes.set(path, value);
    }
  }

  /**
   * The route for `path`, or undefined.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RouteTable } from "./route_table.ts";
   *
   * const table = new RouteTable<string>();
   * table.add("/openai", "path", "openai");
   * assert.equal(table.find("/openai/v1/models"), "openai");
   * assert.equal(table.find("/openaix"), undefined);
   * ```
   */
  find(path: string): T | undefined {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return exact;
    for (let cut = path.lastIndexOf("/"); cut > 0; cut = path.lastIndexOf("/", cut - 1)) {
      const hit = this.#prefixes.get(path.slice(0, cut));
      if (hit !== undefined) return hit;
    }
    return this.#root;
  }
}
