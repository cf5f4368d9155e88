/**
 * An HTTP/1.1 client on a raw socket that notes when each event of a streamed answer became
 * readable, through `Content-Encoding: gzip` too: what a browser's event source sees. It can
 * connect from a chosen loopback address (127.0.0.2, 127.0.0.3 …), so a server sees
 * distinct clients.
 *
 * @module
 */
import net from "node:net";
import zlib from "node:zlib";

/** What the client saw. */
export interface TimedResponse {
  /** Status code. */
  status: number;
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
  /** The decoded body. */
  text: string;
  /** For each `data:` event, when (performance.now()) its bytes had arrived. */
  eventTimes: number[];
}

/** Options for {@linkcode timedRequest}. */
export interface TimedOptions {
  /** Request method (POST by default). */
  method?: string;
  /** Request body. */
  body?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** The local address to connect from. */
  from?: string;
}

/** The body bytes a prefix of a chunked body holds (a partial last chunk included). */
function dechunk(raw: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = raw.indexOf(0x0a, at);
    if (lineEnd === -1) break;
    const size = parseInt(new TextDecoder().decode(raw.subarray(at, lineEnd)).trim(), 16);
    if (!size) break;
    out.push(raw.subarray(lineEnd + 1, Math.min(lineEnd + 1 + size, raw.length)));
    at = lineEnd + 1 + size + 2;
  }
  return new Uint8Array(Buffer.concat(out));
}

function decode(body: Uint8Array, gzip: boolean): string {
  if (!gzip) return new TextDecoder().decode(body);
  if (body.length === 0) return "";
  try {
    return zlib.gunzipSync(body, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
  } catch {
    return ""; // not even the gzip header yet
  }
}

/**
 * Sends one request with `Accept-Encoding: gzip` and `Connection: close`, and reads the whole
 * answer, noting the arrival time of every socket read.
 *
 * @example
 * ```ts
 * const answer = await timedRequest("http://127.0.0.1:8080/sse", { from: "127.0.0.2" });
 * answer.eventTimes; // [t0, t1, …]
 * ```
 */
export function timedRequest(url: string, options: TimedOptions = {}): Promise<TimedResponse> {
  const { hostname, port, pathname, search } = new URL(url);
  const body = options.body ?? "";
  const lines = [
    `${options.method ?? "POST"} ${pathname}${search} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    "accept-encoding: gzip",
    "connection: close",
    "content-type: application/json",
    `content-length: ${new TextEncoder().encode(body).length}`,
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  const reads: { bytes: Uint8Array; at: number }[] = [];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), localAddress: options.from });
    const timer = setTimeout(() => socket.destroy(new Error("No complete answer in 20 s")), 20_000);
    socket.on("data", (bytes: Uint8Array) => reads.push({ bytes, at: performance.now() }));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const all = new Uint8Array(Buffer.concat(reads.map((r) => r.bytes)));
      const headEnd = all.findIndex((_, i) =>
        all[i] === 13 && all[i + 1] === 10 && all[i + 2] === 13 && all[i + 3] === 10
      );
      if (headEnd === -1) return reject(new Error("No response head"));
      const head = new TextDecoder().decode(all.subarray(0, headEnd)).split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const chunked = /chunked/i.test(headers["transfer-encoding"] ?? "");
      const gzip = /gzip/i.test(headers["content-encoding"] ?? "");
      const bodyOf = (end: number) => {
        const raw = all.subarray(headEnd + 4, end);
        return chunked ? dechunk(raw) : raw;
      };
      const eventTimes: number[] = [];
      let end = 0;
      for (const read of reads) {
        end += read.bytes.length;
        if (end <= headEnd + 4) continue;
        const events = decode(bodyOf(end), gzip).split("data:").length - 1;
        while (eventTimes.length < events) eventTimes.push(read.at);
      }
      resolve({ status, headers, text: decode(bodyOf(all.length), gzip), eventTimes });
    });
    socket.write(lines.join("\r\n") + "\r\n\r\n" + body);
  });
}
