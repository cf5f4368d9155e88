/**
 * One kept-alive connection to an upstream, with its read buffer, and the pool of idle ones
 * per origin. A connection goes back to the pool only when its last response was read to
 * its exact end; anything else closes it.
 *
 * An idle connection is watched, as nginx watches its kept-alive upstream connections: it
 * keeps one read pending, and any byte or end of stream that read brings while the
 * connection sits in the pool closes it and drops it from the pool. Bytes nobody asked for
 * would otherwise be read as the answer to the next request sent on it, and every later
 * answer on that connection would go to the request after its own. A connection taken from
 * the pool hands its pending read on to the next response (a read cannot be cancelled), so
 * the watch costs no extra read per request: the read that will carry the next answer is
 * simply issued early. What no client can close (nginx and hyper share it): bytes that land
 * in the same turn of the event loop as the connection is taken are read as its answer.
 * They cannot outlive that exchange, though: its own answer then arrives on an idle
 * connection, which is dropped.
 *
 * @module
 */
import { platform } from "../../platform/mod.ts";
import type { Socket } from "../../platform/types.ts";

/** How long an idle connection is kept: well under the keep-alive timeouts servers use. */
export const IDLE_MS = 2_000;
/** Idle connections kept per origin. */
export const MAX_IDLE = 256;

/** A connection and the bytes read from it but not yet used. */
export class Http1Connection {
  /** `protocol//host:port` of the upstream. */
  readonly origin: string;
  /** Bytes read and not yet used are `buffer[start, end)`. */
  buffer: Uint8Array<ArrayBuffer> = new Uint8Array(16 * 1024);
  start = 0;
  end = 0;
  /** True once closed; it is never used again. */
  closed = false;
  /** True when it came from the pool (the server may have closed it meanwhile). */
  reused = false;
  /** When it went idle (`performance.now()`). */
  idleSince = 0;
  /** True while it sits in the pool. */
  idle = false;
  readonly #conn: Socket;
  /** The read issued while idle, its bytes bound for `buffer[end, ...)`; not yet consumed. */
  #pending?: Promise<number | null>;
  /** Called when the pending read completes while the connection is still idle. */
  #onWake?: (conn: Http1Connection) => void;
  /** The pending read's completion, made once per connection. */
  readonly #woken = () => {
    if (this.idle) this.#onWake?.(this);
  };

  constructor(origin: string, conn: Socket) {
    this.origin = origin;
    this.#conn = conn;
  }

  /**
   * Starts the idle watch: one read is issued now; should it complete (bytes, end of stream
   * or error) while the connection is still idle, `onWake` is called, and the pool closes
   * it. Once the connection is taken, the read belongs to the next response.
   */
  watch(onWake: (conn: Http1Connection) => void): void {
    this.#onWake = onWake;
    const pending = this.#conn.read(this.buffer.subarray(this.end));
    this.#pending = pending;
    pending.then(this.#woken, this.#woken);
  }

  /** Reads more bytes into the buffer, making room as needed; false at end of stream. */
  async fill(limit: number): Promise<boolean> {
    const pending = this.#pending;
    if (pending) {
      // Issued while idle, into the buffer's free tail; nothing has touched the buffer since.
      this.#pending = undefined;
      const n = await pending;
      if (n === null) return false;
      this.end += n;
      return true;
    }
    if (this.end === this.buffer.length) {
      if (this.start > 0) {
        this.buffer.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        if (this.buffer.length >= limit) throw new RangeError("response head too large");
        const grown = new Uint8Array(Math.min(limit, this.buffer.length * 2));
        grown.set(this.buffer.subarray(0, this.end));
        this.buffer = grown;
      }
    }
    const n = await this.#conn.read(this.buffer.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** Reads straight into a new array (for long bodies, sparing a copy); null at end. */
  async readFresh(size: number): Promise<Uint8Array | null> {
    if (this.#pending) {
      if (!(await this.fill(size))) return null;
      return this.take(this.end - this.start);
    }
    const chunk = new Uint8Array(size);
    const n = await this.#conn.read(chunk);
    return n === null ? null : chunk.subarray(0, n);
  }

  /** Takes `n` buffered bytes as a copy of their own. */
  take(n: number): Uint8Array<ArrayBuffer> {
    const out = this.buffer.slice(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }

  /** Writes some of `bytes`, resolving to how many the system took. */
  writeSome(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.idle = false;
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime
    }
  }
}

/** The origin key of a URL. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * Opens a new connection to the URL's origin (TLS for https, HTTP/1.1 only); `caCerts` adds
 * PEM certificates to trust besides the runtime's roots.
 */
export async function connect(url: URL, caCerts?: string[]): Promise<Http1Connection> {
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const tls = url.protocol === "https:";
  const port = Number(url.port) || (tls ? 443 : 80);
  if (!platform.dial) throw new TypeError("This runtime gives scripts no sockets");
  const conn = await platform.dial({ hostname, port, tls, caCerts });
  return new Http1Connection(originOf(url), conn);
}

/**
 * Idle connections per origin, closed once idle longer than the pool's idle time, or as soon
 * as anything arrives on them (see the module's notes).
 */
export class Pool {
  readonly #idle = new Map<string, Http1Connection[]>();
  readonly #idleMs: number;
  #sweeper?: ReturnType<typeof setInterval>;
  /** Drops a connection whose idle watch woke: the server wrote or closed while it was idle. */
  readonly #evict = (conn: Http1Connection) => {
    const list = this.#idle.get(conn.origin);
    const at = list?.indexOf(conn) ?? -1;
    if (at !== -1) list!.splice(at, 1);
    conn.close();
  };

  /** `idleMs`: how long an idle connection is kept ({@linkcode IDLE_MS} by default). */
  constructor(idleMs = IDLE_MS) {
    this.#idleMs = idleMs;
  }

  /** An idle connection to the URL's origin, or undefined when there is none fresh enough. */
  take(url: URL): Http1Connection | undefined {
    const list = this.#idle.get(originOf(url));
    const now = performance.now();
    while (list?.length) {
      const conn = list.pop()!;
      conn.idle = false;
      if (now - conn.idleSince < this.#idleMs) {
        conn.reused = true;
        return conn;
      }
      conn.close();
    }
    return undefined;
  }

  /** Keeps a connection whose last exchange ended exactly, watched while idle, or closes it. */
  release(conn: Http1Connection): void {
    if (conn.closed) return;
    if (conn.start !== conn.end) return conn.close(); // bytes nobody asked for
    conn.start = conn.end = 0;
    let list = this.#idle.get(conn.origin);
    if (!list) this.#idle.set(conn.origin, list = []);
    if (list.length >= MAX_IDLE) return conn.close();
    conn.idleSince = performance.now();
    conn.idle = true;
    list.push(conn);
    conn.watch(this.#evict);
    if (this.#sweeper === undefined) {
      const sweeper = setInterval(() => this.#sweep(), this.#idleMs);
      platform.unrefTimer(sweeper);
      this.#sweeper = sweeper;
    }
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.#idle.values()) for (const conn of list) conn.close();
    this.#idle.clear();
    this.#stopSweeping();
  }

  #sweep(): void {
    const now = performance.now();
    for (const [origin, list] of this.#idle) {
      const live = list.filter((conn) => {
        if (now - conn.idleSince < this.#idleMs) return true;
        conn.close();
        return false;
      });
      if (live.length) this.#idle.set(origin, live);
      else this.#idle.delete(origin);
    }
    if (this.#idle.size === 0) this.#stopSweeping();
  }

  #stopSweeping(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
