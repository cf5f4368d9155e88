import assert from "node:assert/strict";
import { clientAddress } from "./client_ip.ts";

const info = { remoteAddr: { transport: "tcp", hostname: "10.0.0.5", port: 5555 } };
const request = (headers: Record<string, string>) =>
  new Request("http://gateway.test/x", { headers });

Deno.test("the peer address is the client unless forwarding headers are trusted", () => {
  const spoofed = request({ "x-forwarded-for": "1.2.3.4" });
  assert.equal(clientAddress(spoofed, info, false), "10.0.0.5");
  assert.equal(clientAddress(spoofed, undefined, false), "unknown");
});

Deno.test("trusted forwarding headers give the address the proxy saw: the last hop", () => {
  // A client can put anything first; the proxy in front appends what it really saw.
  assert.equal(
    clientAddress(request({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" }), info, true),
    "203.0.113.7",
  );
  assert.equal(
    clientAddress(
      request({ forwarded: 'for=6.6.6.6, for="[2001:db8::1]";proto=https' }),
      info,
      true,
    ),
    "2001:db8::1",
  );
  assert.equal(clientAddress(request({ "x-real-ip": "198.51.100.2" }), info, true), "198.51.100.2");
  assert.equal(clientAddress(request({}), info, true), "10.0.0.5");
});
