/**
 * Key health as the status page shows it: each route's keys by origin and a short hash,
 * never the key.
 *
 * @module
 */
import type { KeyStatus } from "./health.ts";
import type { KeyEntry, KeySource } from "./source.ts";

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

/** One key as the status page shows it: where it comes from, its state, and its digest. */
export type KeyView = KeyStatus & { id: string };

/** A route's keys as the status page shows them, in pool order (none: an empty list). */
export async function routeKeys(keys: KeySource | undefined): Promise<KeyView[]> {
  if (!keys) return [];
  const states = keys.health.status();
  return await Promise.all(
    keys.keys.map(async (entry, i) => ({ id: await shortHash(entry), ...states[i] })),
  );
}
