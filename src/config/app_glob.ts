/**
 * The grammar of `body.apps` entries (inference.sh): `namespace/name` globs, parsed when the
 * config loads.
 *
 * @module
 */
const APP_GLOB = /^[A-Za-z0-9._*-]+\/[A-Za-z0-9._*-]+$/;
/**
 * Parses one `body.apps` entry: `namespace/name`, where `*` matches within its part.
 *
 * @throws {Error} when the entry is not a `namespace/name` glob
 */
export function parseAppGlob(entry: string): RegExp {
  if (!APP_GLOB.test(entry)) {
    throw new Error(
      `Cannot parse app "${entry}": use namespace/name, "*" within a part (acme/*, */chat)`,
    );
  }
  const source = entry.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]*");
  return new RegExp(`^${source}$`);
}
