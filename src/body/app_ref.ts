/**
 * inference.sh app and agent refs: the `namespace/name` a ref in a body or path names, for
 * `body.apps` globs (parsed by `config/app_glob.ts`).
 *
 * @module
 */

/** Ref prefixes the inference.sh API strips: `app/ana/helper` is `ana/helper`. */
const REF_TYPES = new Set(["app", "agent", "skill", "knowledge"]);

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
