/**
 * A hostile upstream on a raw TCP socket: a script per connection reads requests and writes
 * exactly the bytes a test chooses (conflicting framings, late bytes on an idle kept-alive
 * connection, stalled bodies, echoed keys). Every request it reads is recorded, so a test can
 * tell what reached the upstream and how often.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One request as the raw upstream read it off the wire. */
export interface RawRecorded {
  /** Which accepted connection it came on (0, 1, ...). */
  connection: number;
  method: string;
  /** The request target as sent. */
  target: string;
  /** Header names lower-cased; repeated names joined with ", ". */
  headers: Record<string, string>;
  /** The body (read by content-length or chunked framing). */
  body: string;
}

/** What a connection script can do with its connection. */
export interface RawConnection {
  /** Index of this connection (0 for the first accepted). */
  readonly index: number;
  /** Reads the next request; null when the peer closed first. */
  request(): Promise<RawRecorded | null>;
  /** Writes text or bytes as they are; false when the peer is gone. */
  write(data: string | Uint8Array): Promise<boolean>;
  /** Waits `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Resolves when the peer closes the connection (or after `ms`, to false). */
  closedByPeer(ms: number): Promise<boolean>;
  /** Closes the connection. */
  close(): void;
}

/** Handles one connection; it is closed when the script returns. */
export type RawScript = (conn: RawConnection) => Promise<void>;

/** A running raw upstream. */
export interface RawUpstream {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Host and port. */
  host: string;
  /** Every request read, in order. */
  requests: RawRecorded[];
  /** How many connections were accepted. */
  connections(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

class Wire implements RawConnection {
  readonly index: number;
  #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #eof = false;
  #closed = false;
  #recorded: RawRecorded[];

  constructor(index: number, conn: Deno.Conn, recorded: RawRecorded[]) {
    this.index = index;
    this.#conn = conn;
    this.#recorded = recorded;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null = null;
    try {
      n = await this.#conn.read(chunk);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  async #line(): Promise<string | null> {
    for (;;) {
      const text = decoder.decode(this.#buffer);
      const at = text.indexOf("\r\n");
      if (at >= 0) {
        this.#buffer = this.#buffer.subarray(encoder.encode(text.slice(0, at + 2)).length);
        return text.slice(0, at);
      }
      if (!(await this.#fill())) return null;
    }
  }

  async #bytes(n: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < n) if (!(await this.#fill())) return null;
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  async request(): Promise<RawRecorded | null> {
    const first = await this.#line();
    if (first === null) return null;
    const [method, target] = first.split(" ");
    const headers: Record<string, string> = {};
    for (;;) {
      const line = await this.#line();
      if (line === null) return null;
      if (line === "") break;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let body = "";
    if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      for (;;) {
        const size = parseInt((await this.#line()) ?? "0", 16);
        if (!size) {
          while (((await this.#line()) ?? "") !== "");
          break;
        }
        const data = await this.#bytes(size);
        if (data === null) return null;
        body += decoder.decode(data);
        await this.#line();
      }
    } else if (headers["content-length"]) {
      const data = await this.#bytes(Number(headers["content-length"]));
      if (data === null) return null;
      body = decoder.decode(data);
    }
    const recorded = { connection: this.index, method, target, headers, body };
    this.#recorded.push(recorded);
    return recorded;
  }

  async write(data: string | Uint8Array): Promise<boolean> {
    let rest = typeof data === "string" ? encoder.encode(data) : data;
    try {
      while (rest.length > 0) rest = rest.subarray(await this.#conn.write(rest));
      return true;
    } catch {
      return false;
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async closedByPeer(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
    const closed = (async () => {
      while (await this.#fill());
      return true as const;
    })();
    try {
      return await Promise.race([closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Starts a raw upstream on 127.0.0.1 at a free port; `script` runs for each accepted
 * connection (its index tells them apart).
 *
 * @example
 * ```ts
 * const upstream = startRawUpstream(async (conn) => {
 *   await conn.request();
 *   await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
 * });
 * ```
 */
export function startRawUpstream(script: RawScript): RawUpstream {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const requests: RawRecorded[] = [];
  const open = new Set<Wire>();
  const running = new Set<Promise<void>>();
  let accepted = 0;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      const wire = new Wire(accepted++, conn, requests);
      open.add(wire);
      const run: Promise<void> = script(wire).catch(() => {}).finally(() => {
        wire.close();
        open.delete(wire);
        running.delete(run);
      });
      running.add(run);
    }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    connections: () => accepted,
    close: async () => {
      listener.close();
      for (const wire of open) wire.close();
      await loop;
      await Promise.allSettled([...running]);
    },
  };
}
