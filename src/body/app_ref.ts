/**
 * inference.sh app and agent refs: `body.apps` globs over `namespace/name` (parsed when the
 * config loads) and the `namespace/name` a ref in a body or path names.
 *
 * @module
 */

const APP_GLOB = /^[A-Za-z0-9._*-]+\/[A-Za-z0-9._*-]+$/;
/** Ref prefixes the inference.sh API strips: `app/ana/helper` is `ana/helper`. */
const REF_TYPES = new Set(["app", "agent", "skill", "knowledge"]);

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

/**
 * `namespace/name` of an app or agent ref written `[type/]namespace/name[@version][:function]`,
 * or undefined when the ref names no namespace (an id, a bare name).
 */
export function refName(ref: string): string | undefined {
  let full = ref;
  const colon = ref.lastIndexOf(":");
  const at = ref.lastIndexOf("@");
  if (colon !== -1 && (at === -1 || colon > at)) full = ref.slice(0, colon);
  const version = full.lastIndexOf("@");
  const parts = (version === -1 ? full : full.slice(0, version)).split("/");
  if (parts.length >= 3 && REF_TYPES.has(parts[0])) parts.shift();
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return undefined;
  return `${parts[0]}/${parts[1]}`;
}

/** The value of the first key of `object` that folds to `field` (the only one, once checked). */
