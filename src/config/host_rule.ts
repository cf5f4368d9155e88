/**
 * The grammar of target `hosts` entries: `host`, `*.host` or `host:port`, parsed when the
 * config loads.
 *
 * @module
 */
/** One compiled `hosts` entry. */
export interface HostRule {
  /** Lower-case host name without port, or the suffix (with the leading dot) for wildcards. */
  name: string;
  wildcard: boolean;
  /** Required port as written, or "" for the scheme's default. */
  port: string;
}

/**
 * Parses one `hosts` entry.
 *
 * @throws {Error} when the entry is not a host name, `*.host`, or `host:port`
 */
export function parseHostRule(entry: string): HostRule {
  const match = /^(\*\.)?((?:\[[0-9a-f:.]+\])|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(entry.trim());
  if (!match || match[2].startsWith(".") || match[2].endsWith(".")) {
    throw new Error(`Cannot parse host "${entry}": use host, *.host or host:port`);
  }
  const wildcard = match[1] !== undefined;
  const name = match[2].toLowerCase();
  return { name: wildcard ? `.${name}` : name, wildcard, port: match[3] ?? "" };
}
