/**
 * The key health status endpoint's body: each pooled route's keys by origin and a short
 * hash, never the key.
 *
 * @module
 */
import type { CompiledRoute } from "../route.ts";
import type { KeyStatus } from "./health.ts";
import type { KeyEntry } from "./source.ts";

const hashes = new WeakMap<KeyEntry, string>();

/** The first 8 hex digits of the key's sha256: enough to tell keys apart, useless to use. */
export async function shortHash(entry: KeyEntry): Promise<string> {
  let hash = hashes.get(entry);
  if (!hash) {
    const bytes = new TextEncoder().encode(entry.secret.reveal());
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    hash = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    hashes.set(entry, hash);
  }
  return hash;
}

/** One route's keys as the status endpoint shows them. */
export interface RouteKeyStatus {
  /** Route name. */
  route: string;
  /** Its keys, in pool order. */
  keys: (KeyStatus & { id: string })[];
}

/** The status of every route that has keys. */
export async function keyStatus(routes: readonly CompiledRoute[]): Promise<RouteKeyStatus[]> {
  const out: RouteKeyStatus[] = [];
  for (const route of routes) {
    if (!route.keys || route.keys.keys.length === 0) continue;
    const states = route.keys.health.status();
    const keys = await Promise.all(route.keys.keys.map(async (entry, i) => ({
      id: await shortHash(entry),
      ...states[i],
    })));
    out.push({ route: route.name, keys });
  }
  return out;
}
