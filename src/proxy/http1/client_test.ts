import assert from "node:assert/strict";
import { Http1Client, WHOLE_BYTES, wholeBody } from "./client.ts";
import { headEnd, parseHead } from "./head.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A scripted HTTP/1.1 server on loopback: `answer` gets each request's head (and the
 * connection's number) and returns the raw bytes to send, split into writes.
 */
function rawServer(answer: (head: string, connection: number) => (string | number)[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  let connections = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const number = ++connections;
      (async () => {
        const buffer = new Uint8Array(65536);
        let pending = "";
        try {
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) break;
            pending += decoder.decode(buffer.subarray(0, n));
            let end;
            while ((end = pending.indexOf("\r\n\r\n")) !== -1) {
              const head = pending.slice(0, end);
              const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
              if (pending.length < end + 4 + length) break;
              pending = pending.slice(end + 4 + length);
              for (const part of answer(head, number)) {
                if (typeof part === "number") {
                  if (part < 0) conn.close();
                  else await new Promise((resolve) => setTimeout(resolve, part));
                } else await conn.write(encoder.encode(part));
              }
            }
          }
        } catch {
          // closed
        }
      })();
    }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await serving.catch(() => {});
    },
  };
}

Deno.test("http1: kept-alive connections are reused, one request at a time", async () => {
  const server = rawServer(() => ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]);
  const client = new Http1Client();
  try {
    for (let i = 0; i < 3; i++) {
      const response = await client.fetch(`${server.url}/x`);
      assert.equal(await response.text(), "ok");
    }
    assert.equal(server.connections(), 1);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: chunked bodies split anywhere, with extensions and trailers, stream chunk by chunk", async () => {
  const server = rawServer(() => [
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/event-stream\r\n\r\n",
    "5;ext=1\r\nhel",
    5,
    "lo\r\n",
    "6\r\n wor",
    5,
    "ld\r\n0\r\nx-trailer: 1\r\n\r\n",
  ]);
  const client = new Http1Client();
  try {
    const response = await client.fetch(`${server.url}/sse`);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(await response.text(), "hello world");
    // The connection ended exactly and is reused.
    assert.equal(await (await client.fetch(`${server.url}/sse`)).text(), "hello world");
    assert.equal(server.connections(), 1);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: interim 100 responses are skipped; bodiless statuses and HEAD have no body", async () => {
  const server = rawServer((head) => {
    if (head.startsWith("HEAD")) return ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"];
    if (head.includes("/empty")) return ["HTTP/1.1 204 No Content\r\n\r\n"];
    return ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 1\r\n\r\n!"];
  });
  const client = new Http1Client();
  try {
    const created = await client.fetch(`${server.url}/x`, { method: "POST", body: "{}" });
    assert.equal(created.status, 201);
    assert.equal(await created.text(), "!");
    const head = await client.fetch(`${server.url}/x`, { method: "HEAD" });
    assert.equal(head.body, null);
    const empty = await client.fetch(`${server.url}/empty`);
    assert.equal(empty.status, 204);
    assert.equal(server.connections(), 1);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: a pooled connection the server closed while idle is dropped; the next request goes on a new one", async () => {
  const server = rawServer(() => ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", -1]);
  const client = new Http1Client();
  try {
    assert.equal(await (await client.fetch(`${server.url}/a`)).text(), "ok");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await (await client.fetch(`${server.url}/b`)).text(), "ok");
    assert.equal(server.connections(), 2);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: a small declared body sent after its head arrives whole; large ones and event streams stream", async () => {
  const large = "x".repeat(WHOLE_BYTES + 1);
  const server = rawServer((head) =>
    head.includes("/small")
      ? ["HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n", 30, "hello", 20, " world"]
      : head.includes("/events")
      ? [
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 20\r\n\r\n",
        "data: one\n\n",
        200,
        "data: 2\n\n",
      ]
      : [`HTTP/1.1 200 OK\r\ncontent-length: ${large.length}\r\n\r\n`, 30, large]
  );
  const client = new Http1Client();
  try {
    const small = await client.fetch(`${server.url}/small`);
    assert.equal(decoder.decode(wholeBody(small)), "hello world");
    assert.equal(await small.text(), "hello world");
    const events = await client.fetch(`${server.url}/events`);
    const reader = events.body!.getReader();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), "data: one\n\n", "an event is not held for the rest");
    assert.equal(decoder.decode((await reader.read()).value), "data: 2\n\n");
    const big = await client.fetch(`${server.url}/large`);
    assert.equal(wholeBody(big), undefined, "answered at its head, the body streams");
    assert.equal(await big.text(), large);
    const closed = rawServer(() => ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf", -1]);
    try {
      await assert.rejects(client.fetch(`${closed.url}/x`), /closed mid-body/);
    } finally {
      await closed.close();
    }
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: a body read until close is never reused; a length beside a transfer coding is refused", async () => {
  const server = rawServer((head) =>
    head.includes("/close")
      ? ["HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil ", "the end", -1]
      : [
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      ]
  );
  const client = new Http1Client();
  try {
    assert.equal(await (await client.fetch(`${server.url}/close`)).text(), "until the end");
    await assert.rejects(client.fetch(`${server.url}/both`), /content-length and transfer/);
    await assert.rejects(client.fetch(`${server.url}/both`), /content-length and transfer/);
    assert.equal(server.connections(), 3, "no connection was reused");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: malformed heads and unsafe header values are errors, not guesses", async () => {
  const server = rawServer(() => ["HTTP/1.1 200 OK\r\nbad header\r\n\r\n"]);
  const client = new Http1Client();
  try {
    await assert.rejects(client.fetch(`${server.url}/x`), /bad header line/);
    await assert.rejects(
      client.fetch(`${server.url}/x`, { headers: { "x-key": "a\r\nx-injected: 1" } }),
      TypeError,
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: aborting mid-body errors the stream and drops the connection", async () => {
  const server = rawServer(() => [
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
    "3\r\none\r\n",
    10_000,
  ]);
  const client = new Http1Client();
  const controller = new AbortController();
  try {
    const response = await client.fetch(`${server.url}/x`, { signal: controller.signal });
    const reader = response.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), "one");
    controller.abort(new Error("client gone"));
    await assert.rejects(reader.read());
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: streamed uploads go fixed-length when declared, chunked otherwise", async () => {
  const heads: string[] = [];
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const echo = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr) },
    async (request) => {
      heads.push(
        `${request.headers.get("content-length")}|${request.headers.get("transfer-encoding")}`,
      );
      return new Response(await request.text());
    },
  );
  const { port } = await ready.promise;
  const client = new Http1Client();
  const stream = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("ab"));
        controller.enqueue(encoder.encode("cd"));
        controller.close();
      },
    });
  try {
    const url = `http://127.0.0.1:${port}/up`;
    const declared = await client.fetch(url, {
      method: "POST",
      headers: { "content-length": "4" },
      body: stream(),
    });
    assert.equal(await declared.text(), "abcd");
    const chunked = await client.fetch(url, { method: "POST", body: stream() });
    assert.equal(await chunked.text(), "abcd");
    assert.deepEqual(heads, ["4|null", "null|chunked"]);
  } finally {
    client.close();
    await echo.shutdown();
  }
});

Deno.test("http1: https upstreams over TLS, certificates checked", async () => {
  const dir = new URL("../../../tests/testdata/tls/", import.meta.url);
  const cert = await Deno.readTextFile(new URL("localhost.crt", dir));
  const key = await Deno.readTextFile(new URL("localhost.key", dir));
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen: (addr) => ready.resolve(addr) },
    (request) => new Response(`secure ${new URL(request.url).pathname}`),
  );
  const { port } = await ready.promise;
  const ca = await Deno.readTextFile(new URL("ca.crt", dir));
  const trusting = new Http1Client({ caCerts: [ca] });
  const untrusting = new Http1Client();
  try {
    for (let i = 0; i < 2; i++) {
      const response = await trusting.fetch(`https://localhost:${port}/x`);
      assert.equal(await response.text(), "secure /x");
    }
    await assert.rejects(untrusting.fetch(`https://localhost:${port}/x`));
  } finally {
    trusting.close();
    untrusting.close();
    await server.shutdown();
  }
});

Deno.test("http1: an upstream that accepts and never answers is abandoned when the signal fires", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn); // never reads, never writes
  })();
  const client = new Http1Client();
  try {
    for (const scheme of ["http", "https"]) {
      const started = performance.now();
      await assert.rejects(
        client.fetch(`${scheme}://localhost:${port}/x`, { signal: AbortSignal.timeout(200) }),
      );
      assert.ok(performance.now() - started < 2_000, `${scheme} gave up in time`);
    }
  } finally {
    client.close();
    listener.close();
    for (const conn of accepted) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("http1: heads nginx refuses are refused; sound ones keep their framing", () => {
  const refused: [string, RegExp][] = [
    ["HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n", /bad content-length/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 9007199254740992\r\n\r\n", /bad content-length/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\n", /more than one/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n", /bad content-length/],
    ["HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", /bad content-length/],
    ["HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\n", /bad content-length/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n", /unsupported/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\n\r\n", /unsupported/],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n",
      /more than one/,
    ],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n",
      /together/,
    ],
    ["HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", /HTTP\/1\.0/],
    ["HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n", /bad header line/],
    ["HTTP/1.1 200 OK\r\ncontent-length : 1\r\n\r\n", /bad header line/],
    ["HTTP/1.1 200 OK\r\nx-a: 1\0\r\n\r\n", /NUL/],
    ["HTTP/1.1 099 Low\r\n\r\n", /bad status code/],
    ["HTTP/1.1 600 High\r\n\r\n", /bad status code/],
    ["HTTP/2 200 OK\r\n\r\n", /bad status line/],
  ];
  for (const [head, error] of refused) {
    assert.throws(() => parseHead(encoder.encode(head), "GET"), error, JSON.stringify(head));
  }
  const ok = (head: string, method = "GET") => parseHead(encoder.encode(head), method);
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\ncontent-length: 007\r\n\r\n").framing, {
    kind: "length",
    length: 7,
  });
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n").framing, {
    kind: "chunked",
  });
  assert.equal(ok("HTTP/1.1 200 OK\r\nx-a: caf\xe9\r\ncontent-length: 0\r\n\r\n").keepAlive, true);
  assert.equal(
    ok("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 1\r\n\r\n").keepAlive,
    false,
    "an HTTP/1.0 connection is never reused",
  );
  assert.equal(
    ok("HTTP/1.1 200 OK\r\nconnection: x, close\r\ncontent-length: 1\r\n\r\n").keepAlive,
    false,
  );
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "HEAD").framing, {
    kind: "none",
  });
});

Deno.test("http1: a head ends only at CRLF CRLF; a bare LF or CR anywhere in it is refused", () => {
  const end = (text: string, start = 0) => {
    const bytes = encoder.encode(text);
    return headEnd(bytes, start, bytes.length);
  };
  assert.equal(end("HTTP/1.1 200 OK\r\nx: 1\r\n\r\nbody"), 25);
  assert.equal(end("HTTP/1.1 200 OK\r\nx: 1\r\n"), -1);
  assert.equal(end("HTTP/1.1 200 OK\r"), -1, "a CR at the end may yet be followed by LF");
  assert.equal(end("xxHTTP/1.1 204 No\r\n\r\n", 2), 21);
  assert.throws(() => end("HTTP/1.1 200 OK\nx: 1\n\n"), /bare LF/);
  assert.throws(() => end("\nHTTP/1.1 200 OK\r\n\r\n"), /bare LF/);
  assert.throws(() => end("HTTP/1.1 200 OK\r\nx: 1\ry: 2\r\n\r\n"), /bare CR/);
});

Deno.test("http1: chunked framing is strict, whether the body came with the head or streams", async () => {
  const bad = [
    ["zz\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["-5\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["+5\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["0x5\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["5 5\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["1000000000005\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["5;a\rb\r\nhello\r\n0\r\n\r\n", /bad chunk size/],
    ["5\r\nhelloXX\r\n0\r\n\r\n", /bad chunk end/],
    ["5\r\nhello\r\n0\r\nnot a trailer\r\n\r\n", /bad trailer/],
  ] as const;
  for (const split of [false, true]) {
    // Split, the head answers first and the body's framing is found wrong as it streams.
    const server = rawServer((head) => {
      const body = bad[Number(/\/(\d+)/.exec(head)![1])][0];
      const start = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
      return split ? [start, 20, body] : [start + body];
    });
    const client = new Http1Client();
    try {
      for (const [i, [, error]] of bad.entries()) {
        if (!split) {
          await assert.rejects(client.fetch(`${server.url}/${i}`), error);
          continue;
        }
        const response = await client.fetch(`${server.url}/${i}`);
        await assert.rejects(response.text(), error);
      }
      assert.equal(server.connections(), bad.length, "no connection was reused");
    } finally {
      client.close();
      await server.close();
    }
  }
  const sound = rawServer(() => [
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
    '005;name="v"\r\nhello\r\n1 ;x\r\n!\r\n0\r\nx-t: 1\r\n\r\n',
  ]);
  const client = new Http1Client();
  try {
    const response = await client.fetch(`${sound.url}/x`);
    assert.equal(decoder.decode(wholeBody(response)), "hello!", "came whole: handed over as bytes");
    assert.equal(await (await client.fetch(`${sound.url}/x`)).text(), "hello!");
    assert.equal(sound.connections(), 1);
  } finally {
    client.close();
    await sound.close();
  }
});

Deno.test("http1: bytes or a close arriving on an idle connection drop it, and only it", async () => {
  // Three connections go idle; later, the second gets bytes nobody asked for and the third
  // is closed by the server. The next three requests use the first and two new ones.
  const server = rawServer((head, connection) => {
    const answer = `HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${connection}`;
    if (!head.includes("/warm")) return [answer];
    if (connection === 2) return [answer, 50, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nfake"];
    if (connection === 3) return [answer, 50, -1];
    return [answer];
  });
  const client = new Http1Client();
  try {
    const warm = await Promise.all([1, 2, 3].map(() => client.fetch(`${server.url}/warm`)));
    assert.deepEqual((await Promise.all(warm.map((r) => r.text()))).sort(), ["1", "2", "3"]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const next = await Promise.all([1, 2, 3].map(() => client.fetch(`${server.url}/next`)));
    assert.deepEqual((await Promise.all(next.map((r) => r.text()))).sort(), ["1", "4", "5"]);
    assert.equal(server.connections(), 5);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: the read issued while idle carries the next answer, however it is split", async () => {
  const large = "y".repeat(40_000); // past the first buffer: it grows after the handed-on read
  const server = rawServer((head) =>
    head.includes("/large")
      ? [`HTTP/1.1 200 OK\r\ncontent-length: ${large.length}\r\n\r\n${large}`]
      : ["HTTP/1.1 200 OK\r\ncontent-", 20, "length: 5\r\n\r\nhel", 20, "lo"]
  );
  const client = new Http1Client();
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal(await (await client.fetch(`${server.url}/split`)).text(), "hello");
      assert.equal(await (await client.fetch(`${server.url}/large`)).text(), large);
    }
    assert.equal(server.connections(), 1);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: a request the server read and dropped is sent again only when idempotent", async () => {
  const seen: string[] = [];
  const warmed = new Set<number>();
  const server = rawServer((head, connection) => {
    seen.push(`${connection} ${head.split(" ")[0]}`);
    if (head.includes("/warm")) warmed.add(connection);
    else if (warmed.delete(connection)) return [-1]; // read, then dropped unanswered
    return ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"];
  });
  const client = new Http1Client();
  try {
    for (const method of ["POST", "PATCH", "GET", "PUT", "DELETE"]) {
      seen.length = 0;
      assert.equal(await (await client.fetch(`${server.url}/warm`)).text(), "ok");
      const connection = server.connections();
      const pending = client.fetch(`${server.url}/drop`, { method, body: "{}" });
      if (method === "POST" || method === "PATCH") {
        await assert.rejects(pending, /connection closed/);
        assert.deepEqual(seen, [`${connection} GET`, `${connection} ${method}`], "sent once");
      } else {
        assert.equal(await (await pending).text(), "ok");
        assert.deepEqual(seen.length, 3, "sent again on a new connection");
      }
      client.close();
    }
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("http1: idle connections past their time, an abort while the handed-on read waits, and a closed client leave nothing behind", async () => {
  const server = rawServer((head) =>
    head.includes("/slow") ? [10_000] : ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
  );
  const client = new Http1Client({ idleMs: 50 });
  try {
    assert.equal(await (await client.fetch(`${server.url}/a`)).text(), "ok");
    await new Promise((resolve) => setTimeout(resolve, 160)); // swept, its read cancelled
    assert.equal(await (await client.fetch(`${server.url}/b`)).text(), "ok");
    assert.equal(server.connections(), 2);
    // Taken from the pool, the connection waits on the read it issued while idle.
    const reason = new Error("gave up");
    const controller = new AbortController();
    const slow = client.fetch(`${server.url}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 30);
    await assert.rejects(slow, (error) => error === reason);
    assert.equal(await (await client.fetch(`${server.url}/c`)).text(), "ok");
    assert.equal(server.connections(), 3, "the aborted connection was not reused");
    assert.equal(await (await client.fetch(`${server.url}/d`)).text(), "ok");
  } finally {
    client.close(); // with a read pending on the idle connection
    await server.close();
  }
});
