/**
 * Address prefixes: what visitor challenges, tokens and `per_address` are bound to. One
 * household, office or cloud tenant usually holds a whole IPv4 /24 or IPv6 /64, so binding to
 * the prefix rather than the address keeps a token working across the addresses a visitor's
 * network hands out, while a token carried to another network is refused. IPv6 hosts often
 * get a /56 or /48, so an IPv6 prefix is also counted at /48 (see {@linkcode widePrefix}).
 *
 * @module
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The octets of a dotted IPv4 address, or undefined. */
function ipv4(address: string): number[] | undefined {
  const match = IPV4.exec(address);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((n) => n <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address (zone and brackets dropped), or undefined. */
function ipv6(address: string): number[] | undefined {
  let text = address.replace(/^\[|\]$/g, "");
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(":")) return undefined;
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const quad = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (quad) {
    const octets = ipv4(quad[1]);
    if (!octets) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    text = `${text.slice(0, quad.index)}:${hex(octets[0], octets[1])}:${hex(octets[2], octets[3])}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => part === "" ? [] : part.split(":");
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/** An IPv4 address held in IPv6 (`::ffff:a.b.c.d`, as dual-stack sockets report it). */
function mapped(groups: number[]): number[] | undefined {
  if (groups.slice(0, 5).some((g) => g !== 0) || groups[5] !== 0xffff) return undefined;
  return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255];
}

function v6Prefix(groups: number[], bits: 48 | 64): string {
  const kept = groups.slice(0, bits / 16).map((g) => g.toString(16));
  return `${kept.join(":")}::/${bits}`;
}

/**
 * The address prefix a client address belongs to: IPv4 /24, IPv6 /64 (an IPv4-mapped IPv6
 * address counts as IPv4). Anything else (a Unix socket, `unknown`) is its own prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addressPrefix } from "./prefix.ts";
 *
 * assert.equal(addressPrefix("203.0.113.77"), "203.0.113.0/24");
 * assert.equal(addressPrefix("::ffff:203.0.113.77"), "203.0.113.0/24");
 * assert.equal(addressPrefix("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
 * ```
 */
export function addressPrefix(address: string): string {
  const v4 = ipv4(address);
  if (v4) return `${v4[0]}.${v4[1]}.${v4[2]}.0/24`;
  const v6 = ipv6(address);
  if (!v6) return address;
  const inner = mapped(v6);
  if (inner) return `${inner[0]}.${inner[1]}.${inner[2]}.0/24`;
  return v6Prefix(v6, 64);
}

/**
 * The wider prefix an IPv6 client is also counted at (its /48, which one customer of a cloud
 * or an ISP often holds whole), or undefined for IPv4.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { widePrefix } from "./prefix.ts";
 *
 * assert.equal(widePrefix("2001:db8:1:2::9"), "2001:db8:1::/48");
 * assert.equal(widePrefix("203.0.113.77"), undefined);
 * ```
 */
export function widePrefix(address: string): string | undefined {
  if (ipv4(address)) return undefined;
  const v6 = ipv6(address);
  if (!v6 || mapped(v6)) return undefined;
  return v6Prefix(v6, 48);
}
