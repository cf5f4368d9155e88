/**
 * Sends a request line exactly as written (fetch and URL would normalise it first), for
 * tests of path tricks a real attacker can put on the wire.
 *
 * @module
 */

/** The status line's code and the body of a raw HTTP/1.1 exchange. */
export interface RawResponse {
  status: number;
  body: string;
}

/** Sends `METHOD target HTTP/1.1` to a loopback server and reads the whole answer. */
export async function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = [
      `${method} ${target} HTTP/1.1`,
      `host: ${hostname}:${port}`,
      "connection: close",
    ];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    const buffer = new Uint8Array(16 * 1024);
    for (let i = 0; i < 1000; i++) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? "0");
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
  }
}
