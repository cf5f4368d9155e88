/**
 * Settings the schema knows but this version of keyward does not enforce yet (client auth
 * other than `none`, limits other than `timeout`, body rules, CORS, shared stores). A config
 * that uses them is refused at load: a gateway that looks protected but is not would be worse
 * than one that will not start.
 *
 * @module
 */
import type { Config } from "./types.ts";

/** One setting that cannot be honoured, at its path in the config. */
export interface Unenforced {
  /** Path of the setting, e.g. `["routes", 0, "auth"]`. */
  path: (string | number)[];
  /** Why it is refused. */
  message: string;
}

const NOT_YET = "is not enforced by this version of keyward yet; remove it rather than rely on it";

/** Lists every setting of `config` that this version would silently ignore. */
export function unenforced(config: Config): Unenforced[] {
  const found: Unenforced[] = [];
  const server = config.server;
  if (server?.auth !== undefined && server.auth !== "none") {
    found.push({ path: ["server", "auth"], message: `Client auth ${NOT_YET}` });
  }
  if (server?.cors !== undefined) {
    found.push({ path: ["server", "cors"], message: `CORS ${NOT_YET}` });
  }
  if (config.store !== undefined && config.store.kind !== "memory") {
    found.push({ path: ["store", "kind"], message: `A shared store ${NOT_YET}` });
  }
  if (config.clients !== undefined) {
    found.push({ path: ["clients"], message: `Token clients ${NOT_YET}` });
  }
  config.routes.forEach((route, i) => {
    if (route.auth !== undefined && route.auth !== "none") {
      found.push({ path: ["routes", i, "auth"], message: `Client auth ${NOT_YET}` });
    }
    for (const name of Object.keys(route.limits ?? {})) {
      if (name !== "timeout") {
        found.push({ path: ["routes", i, "limits", name], message: `limits.${name} ${NOT_YET}` });
      }
    }
    if (route.body !== undefined) {
      found.push({ path: ["routes", i, "body"], message: `Body rules ${NOT_YET}` });
    }
  });
  return found;
}
