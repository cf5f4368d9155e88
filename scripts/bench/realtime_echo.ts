/**
 * The realtime bench's stand-in provider: a WebSocket server on loopback that sends every
 * frame back as it came (text as text, binary as binary), naming `realtime` when offered, and
 * holds idle sessions open. Prints `{"port": N}` once it listens.
 *
 * @module
 */

if (import.meta.main) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not a socket", { status: 400 });
    }
    const offered = request.headers.get("sec-websocket-protocol") ?? "";
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    if (/\brealtime\b/.test(offered)) response.headers.set("sec-websocket-protocol", "realtime");
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
  console.log(JSON.stringify({ port: server.addr.port }));
}
