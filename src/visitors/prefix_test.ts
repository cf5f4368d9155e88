import assert from "node:assert/strict";
import { addressPrefix, widePrefix } from "./prefix.ts";

Deno.test("addressPrefix: IPv4 /24, IPv6 /64, IPv4 held in IPv6 as IPv4", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.0/24"],
    ["127.0.1.5", "127.0.1.0/24"],
    ["::ffff:127.0.1.5", "127.0.1.0/24"],
    ["::ffff:7f00:105", "127.0.1.0/24"],
    ["2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"],
    ["2001:0DB8:00aa:00bb::1", "2001:db8:aa:bb::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["unknown", "unknown"],
    ["300.1.2.3", "300.1.2.3"],
    ["1:2:3", "1:2:3"],
  ];
  for (const [address, prefix] of cases) assert.equal(addressPrefix(address), prefix, address);
});

Deno.test("widePrefix: an IPv6 client's /48; none for IPv4", () => {
  assert.equal(widePrefix("2001:db8:aa:bb::1"), "2001:db8:aa::/48");
  assert.equal(widePrefix("2001:db8:aa:cc::1"), "2001:db8:aa::/48");
  assert.equal(widePrefix("::ffff:127.0.0.1"), undefined);
  assert.equal(widePrefix("127.0.0.1"), undefined);
});
