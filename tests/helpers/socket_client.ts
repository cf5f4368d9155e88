/**
 * A WebSocket client for tests: every event it gets, kept in order and awaitable by type
 * (OpenAI's `type`, or a Gemini message's top-level field), and its close with the time it
 * came.
 *
 * @module
 */

/** How a socket closed. */
export interface Closed {
  code: number;
  reason: string;
  /** `performance.now()` when the close came. */
  at: number;
}

/** An open test socket. */
export interface TestSocket {
  /** The socket. */
  ws: WebSocket;
  /** Every event received, parsed, with `binary` telling a binary frame. */
  events: (Record<string, unknown> & { binary: boolean })[];
  /** Resolves with the close. */
  closed: Promise<Closed>;
  /** The next event of `type` (or holding the field `type`), not taken before. */
  next(type: string, ms?: number): Promise<Record<string, unknown>>;
  /** Sends a JSON event as a text frame. */
  send(event: unknown): void;
}

/** Opens `url` offering `protocols`; rejects when the handshake fails. */
export function connect(url: string, protocols?: string[]): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    const events: TestSocket["events"] = [];
    const taken = new WeakSet<object>();
    const waiters: { type: string; resolve: (event: Record<string, unknown>) => void }[] = [];
    const matches = (event: Record<string, unknown>, type: string) =>
      event.type === type || type in event;
    const closed = new Promise<Closed>((done) => {
      ws.onclose = (event) =>
        done({ code: event.code, reason: event.reason, at: performance.now() });
    });
    ws.onmessage = (message) => {
      const binary = typeof message.data !== "string";
      const text = binary ? new TextDecoder().decode(message.data) : message.data;
      const event = { ...JSON.parse(text), binary };
      events.push(event);
      const waiter = waiters.findIndex((w) => matches(event, w.type));
      if (waiter !== -1) {
        taken.add(event);
        waiters.splice(waiter, 1)[0].resolve(event);
      }
    };
    const next = (type: string, ms = 3000) =>
      new Promise<Record<string, unknown>>((done, fail) => {
        const found = events.find((event) => matches(event, type) && !taken.has(event));
        if (found) {
          taken.add(found);
          return done(found);
        }
        const timer = setTimeout(() => fail(new Error(`No ${type} within ${ms} ms`)), ms);
        waiters.push({
          type,
          resolve: (event) => {
            clearTimeout(timer);
            done(event);
          },
        });
      });
    ws.onopen = () =>
      resolve({ ws, events, closed, next, send: (event) => ws.send(JSON.stringify(event)) });
    ws.onerror = (event) => reject(new Error((event as ErrorEvent).message ?? "socket error"));
  });
}
