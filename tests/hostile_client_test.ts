/**
 * Abusive clients on raw sockets against a real `main.ts serve` process: connections that
 * stay quiet (silent, a partial head, a body that never comes, idle keep-alive) are closed
 * past the server's timeouts, slow but live clients are not, and running out of file
 * descriptors sheds connections instead of killing the process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type GatewayProcess, startGatewayProcess } from "./helpers/process.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const encoder = new TextEncoder();
const KEYS = { KEY_A: "sk-a-SECRET", KEY_B: "sk-b-SECRET" };
const decoder = new TextDecoder();

function config(upstream: string, timeouts: string): string {
  return `server:
  timeouts: ${timeouts}
routes:
  - name: up
    path: /up
    upstream: ${upstream}
    allow: ["GET /**", "POST /**"]
  - name: rules
    path: /rules
    upstream: ${upstream}
    allow: ["POST /**"]
    body: { max_tokens: 100 }
  - name: bounded
    path: /bounded
    upstream: ${upstream}
    allow: ["POST /**"]
    limits: { timeout: 2s }
  - name: pool
    path: /pool
    upstream: ${upstream}
    key: { pool: [{ env: KEY_A }, { env: KEY_B }] }
    allow: ["POST /**"]
`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function connect(gw: GatewayProcess): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(gw.url);
  return await Deno.connect({ hostname, port: Number(port) });
}

/** What the server did with a connection we left alone: closed it (and what it sent), or not. */
interface Outcome {
  closed: boolean;
  /** Milliseconds from the call until the server closed the connection. */
  after: number;
  /** Everything the server sent. */
  text: string;
}

/** Reads until the server closes `conn` or `ms` pass; closes it then if the server did not. */
async function outcome(conn: Deno.Conn, ms: number): Promise<Outcome> {
  const started = performance.now();
  const buffer = new Uint8Array(4096);
  let text = "";
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return { closed: true, after: performance.now() - started, text };
      text += decoder.decode(buffer.subarray(0, n));
    }
  } catch (error) {
    // Our own close after `ms` (BadResource/Interrupted), or a reset by the server.
    const reset = error instanceof Deno.errors.ConnectionReset;
    return { closed: reset, after: performance.now() - started, text };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

/** Reads one whole response of known length (or up to the end of a chunked one). */
async function readResponse(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  for (let i = 0; i < 100; i++) {
    const end = text.indexOf("\r\n\r\n");
    if (end !== -1) {
      const length = /content-length: *(\d+)/i.exec(text.slice(0, end));
      if (length && text.length >= end + 4 + Number(length[1])) return text;
      if (!length && text.endsWith("0\r\n\r\n")) return text;
    }
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

async function write(conn: Deno.Conn, text: string): Promise<void> {
  await conn.write(encoder.encode(text));
}

Deno.test("quiet client connections are closed past the server's timeouts", async (t) => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(
    config(mock.url, "{ header: 1s, body: 1s, idle: 1s }"),
    KEYS,
  );
  try {
    await t.step("connected and silent", async () => {
      const conn = await connect(gw);
      const result = await outcome(conn, 5000);
      assert.ok(result.closed, "the silent connection is still open");
      assert.ok(result.after >= 900, `closed after ${result.after} ms, before the timeout`);
      assert.equal(result.text, "");
    });

    await t.step("a partial request head", async () => {
      const conn = await connect(gw);
      await write(conn, `GET /healthz HTTP/1.1\r\nhost: x\r\n`);
      const result = await outcome(conn, 5000);
      assert.ok(result.closed, "the connection with half a head is still open");
    });

    await t.step("a head whose declared body never comes", async () => {
      const conn = await connect(gw);
      await write(
        conn,
        `POST /up/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `content-length: 100\r\n\r\n{"model":`,
      );
      const result = await outcome(conn, 5000);
      assert.ok(result.closed, "the connection waiting for its body is still open");
      assert.ok(result.after >= 900, `closed after ${result.after} ms, before the timeout`);
      assert.match(result.text, /^HTTP\/1\.1 408 /);
      assert.match(result.text, /"type":"request_timeout"/);
      assert.equal(mock.requests.length, 0, "nothing was sent upstream");
    });

    for (const route of ["rules", "pool"]) {
      await t.step(
        `a declared body that never comes, on a route that reads it (${route})`,
        async () => {
          const conn = await connect(gw);
          await write(
            conn,
            `POST /${route}/v1/chat/completions HTTP/1.1\r\nhost: x\r\n` +
              `content-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":`,
          );
          const result = await outcome(conn, 5000);
          assert.ok(result.closed, "the connection waiting for its body is still open");
          assert.match(result.text, /^HTTP\/1\.1 408 /);
          assert.equal(mock.requests.length, 0, "nothing was sent upstream");
        },
      );
    }

    await t.step("a large declared body that stalls is cut by the route's timeout", async () => {
      const conn = await connect(gw);
      await write(
        conn,
        `POST /bounded/v1/upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n` +
          `content-length: 1000000\r\n\r\n${"x".repeat(70_000)}`,
      );
      const result = await outcome(conn, 8000);
      assert.ok(result.closed, "the connection with a stalled upload is still open");
      assert.match(result.text, /^HTTP\/1\.1 504 /);
    });

    await t.step("a chunked body that stops mid-way", async () => {
      const before = mock.requests.length;
      const conn = await connect(gw);
      await write(
        conn,
        `POST /up/v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `transfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n`,
      );
      const result = await outcome(conn, 5000);
      assert.ok(result.closed, "the connection with a stalled chunked body is still open");
      assert.match(result.text, /^HTTP\/1\.1 408 /);
      assert.equal(mock.requests.length, before, "the upstream never got a whole request");
      await waitFor(() => gw.logs.some((line) => line.error === "body_timeout"));
    });

    await t.step("an idle kept-alive connection", async () => {
      const conn = await connect(gw);
      await write(conn, `GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n`);
      assert.match(await readResponse(conn), /^HTTP\/1\.1 200 /);
      const result = await outcome(conn, 5000);
      assert.ok(result.closed, "the idle kept-alive connection is still open");
      assert.ok(result.after >= 900, `closed after ${result.after} ms, before the timeout`);
    });
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("slow but live clients and long requests are not cut by the server's timeouts", async (t) => {
  const mock = await startMockUpstream();
  const gw = await startGatewayProcess(
    config(mock.url, "{ header: 1s, body: 1s, idle: 1s }"),
    KEYS,
  );
  try {
    await t.step("a head sent in pieces within the header timeout", async () => {
      const conn = await connect(gw);
      await write(conn, "GET /healthz HTTP/1.1\r\n");
      await delay(300);
      await write(conn, "host: x\r\n");
      await delay(300);
      await write(conn, "connection: close\r\n\r\n");
      const result = await outcome(conn, 5000);
      assert.match(result.text, /^HTTP\/1\.1 200 /);
    });

    await t.step("a chunked body whose chunks come slower in all than the timeout", async () => {
      const conn = await connect(gw);
      await write(
        conn,
        `POST /up/v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `transfer-encoding: chunked\r\nconnection: close\r\n\r\n`,
      );
      const parts = ['{"a":', '"b', "cd", "ef", '"}'];
      for (const part of parts) {
        await write(conn, `${part.length.toString(16)}\r\n${part}\r\n`);
        await delay(400);
      }
      await write(conn, "0\r\n\r\n");
      const result = await outcome(conn, 5000);
      assert.match(result.text, /^HTTP\/1\.1 200 /);
      assert.equal(mock.requests.at(-1)?.body, '{"a":"bcdef"}');
    });

    await t.step("a request whose upstream takes longer than every server timeout", async () => {
      const conn = await connect(gw);
      await write(conn, `GET /up/slow HTTP/1.1\r\nhost: x\r\n\r\n`);
      assert.match(await readResponse(conn), /^HTTP\/1\.1 200 [^]*"slow":true/);
      // The connection is then kept alive, and serves another request.
      await write(conn, `GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n`);
      assert.match(await readResponse(conn), /^HTTP\/1\.1 200 /);
      conn.close();
      // The slow request was watched for a hang-up (request.signal); its success must not
      // abort anything, nor print the runtime's notice about legacy aborts.
      await waitFor(() => gw.logs.some((line) => line.path === "/up/slow"));
      const slow = gw.logs.find((line) => line.path === "/up/slow")!;
      assert.equal(slow.aborted, undefined);
      assert.equal(slow.client, "127.0.0.1", "the client's address reached the gateway");
      assert.equal(slow.status, 200);
      const notices = gw.events.filter((e) => /legacy/i.test(String(e.text ?? "")));
      assert.deepEqual(notices, [], "the runtime printed its notice about request.signal");
    });

    await t.step("a client that hangs up before the upstream answers cancels it", async () => {
      const conn = await connect(gw);
      await write(conn, `GET /up/slow?hangup HTTP/1.1\r\nhost: x\r\n\r\n`);
      await delay(300);
      conn.close();
      // Its line is written when the gateway gives up, or after the upstream's 2 s answer.
      await waitFor(() => gw.logs.filter((line) => line.path === "/up/slow").length === 2);
      const line = gw.logs.filter((line) => line.path === "/up/slow")[1];
      assert.equal(line.aborted, true);
      assert.equal(line.error, "client_closed");
    });
  } finally {
    await gw.stop();
    await mock.close();
  }
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("Timed out waiting");
    await delay(20);
  }
}

function which(program: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const path = `${dir}/${program}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

const PRLIMIT = which("prlimit");

Deno.test({
  name: "running out of file descriptors sheds quiet connections and keeps serving",
  ignore: PRLIMIT === undefined || Deno.build.os !== "linux",
  async fn() {
    const mock = await startMockUpstream();
    // Timeouts long enough that only exhaustion, not a timeout, can free the descriptors.
    const gw = await startGatewayProcess(
      config(mock.url, "{ header: 60s, body: 60s, idle: 60s }"),
      KEYS,
    );
    // The process may hold 128 descriptors at most (the server's own included).
    const limited = await new Deno.Command(PRLIMIT!, {
      args: ["--pid", String(gw.child.pid), "--nofile=128:128"],
    }).output();
    assert.ok(limited.success, new TextDecoder().decode(limited.stderr));
    const held: Deno.TcpConn[] = [];
    let exited = false;
    gw.child.status.then(() => exited = true);
    try {
      // More quiet connections than the process may have descriptors.
      for (let i = 0; i < 250; i++) held.push(await connect(gw));
      await waitFor(() => gw.events.some((e) => e.event === "descriptors_exhausted"));
      assert.equal(exited, false, "the process died");

      // The attack goes on; meanwhile a normal client is still served, upstream call included.
      for (let i = 0; i < 100; i++) held.push(await connect(gw));
      for (let i = 0; i < 3; i++) {
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
        const response = await fetch(`${gw.url}/up/v1/chat/completions`, {
          method: "POST",
          body: JSON.stringify({ model: "m", messages: [] }),
          client,
        });
        assert.equal(response.status, 200);
        assert.equal((await response.json()).object, "chat.completion");
        client.close();
      }
      assert.equal(exited, false, "the process died");
      const exhausted = gw.events.filter((e) => e.event === "descriptors_exhausted");
      assert.equal(exhausted.length, 1, "one log line, not one per failed accept");
      assert.equal(typeof exhausted[0].shed, "number");
      assert.ok((exhausted[0].max_connections as number) < 128, "it keeps descriptors free");

      // Once the attacker lets go, everything is back to normal.
      for (const conn of held.splice(0)) conn.close();
      await delay(200);
      const response = await fetch(`${gw.url}/healthz`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.equal(exited, false, "the process died");
    } finally {
      for (const conn of held) conn.close();
      const status = await gw.stop();
      await mock.close();
      assert.equal(status.code, 0, JSON.stringify(gw.events.slice(-3)));
    }
  },
});
