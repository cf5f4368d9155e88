/**
 * A hostile upstream against the gateway's upstream connections: late bytes on an idle
 * kept-alive connection, framings nginx refuses, and a request dropped after it was read.
 * Each case runs through the standalone server's HTTP/1.1 client and through the runtime's
 * `fetch` (the library's path), and asserts the same secure outcome on both.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type RawConnection, type RawUpstream, startRawUpstream } from "./helpers/raw_upstream.ts";

/** The upstream clients a gateway can use. */
const CLIENTS: { name: string; upstreamFetch?: typeof fetch }[] = [
  { name: "http1" },
  { name: "fetch", upstreamFetch: fetch },
];

const CONFIG = (upstream: string) => `
routes:
  - name: up
    path: /up
    upstream: ${upstream}
    allow: ["GET /**", "POST /**", "PUT /**"]
    limits: { timeout: 1s }
`;

/** A genuine answer naming the request it answers. */
function genuine(target: string): string {
  const body = `real ${target}`;
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

/** A complete response no request asked for. */
const FAKE = "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nfake";

/** Answers every request on the connection genuinely, until the peer closes. */
async function answerAll(conn: RawConnection): Promise<void> {
  for (let request = await conn.request(); request; request = await conn.request()) {
    await conn.write(genuine(request.target));
  }
}

async function withGateway(
  client: (typeof CLIENTS)[number],
  upstream: RawUpstream,
  test: (gw: TestGateway) => Promise<void>,
): Promise<void> {
  const gw = await startGateway(CONFIG(upstream.url), {}, undefined, {
    upstreamFetch: client.upstreamFetch,
  });
  try {
    await test(gw);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

/**
 * Where the runtime's fetch (Deno 2.9.6: hyper) falls short of the secure outcome, measured
 * against this suite. Those tests stay in, registered as ignored with the reason, so the gap
 * shows in every run; the standalone server does not use fetch for these reasons.
 */
const FETCH_GAPS: Record<string, string> = {
  "a length beyond a safe integer":
    "hyper reads the length as a 64-bit integer: a 200 whose body breaks when the upstream stalls",
  "a list of lengths": "hyper takes `5, 5` as one length and keeps the connection",
  "two equal lengths": "hyper takes two equal lengths as one and keeps the connection",
  "a length and a transfer coding": "hyper reads the body as chunked and keeps the connection",
  "a transfer coding other than chunked alone":
    "hyper decodes `gzip, chunked` as chunked and keeps the connection",
  "two transfer-encoding fields": "hyper reads two `chunked` fields as one",
  "bare LF line ends": "hyper takes a bare LF as a line end (RFC 9112 2.2 allows it)",
  "a bare LF inside the head": "hyper takes a bare LF as a line end (RFC 9112 2.2 allows it)",
  "a chunk size that is not hex": CHUNK_GAP(),
  "a negative chunk size": CHUNK_GAP(),
  "a chunk size with a hex prefix": CHUNK_GAP(),
  "an overflowing chunk size": CHUNK_GAP(),
  "chunk data without its CRLF": CHUNK_GAP(),
  "a bare LF after a chunk size": CHUNK_GAP(),
  "a POST dropped unanswered":
    "Deno's fetch sends the POST (and PATCH, even with a stream body) again on a new connection",
};

function CHUNK_GAP(): string {
  return "hyper answers with the head first; the body then breaks (a 200 cut short), " +
    "and the connection is closed";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * First answers on connection 0, each followed ~100 ms later by bytes nobody asked for. The
 * HEAD answer's late "body" is itself a whole response.
 */
const LATE: { name: string; method: string; first: string; late: string }[] = [
  {
    name: "a length-delimited answer",
    method: "GET",
    first: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    late: FAKE,
  },
  {
    name: "a chunked terminator",
    method: "GET",
    first: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    late: FAKE,
  },
  { name: "a 204", method: "GET", first: "HTTP/1.1 204 No Content\r\n\r\n", late: FAKE },
  {
    name: "a HEAD answer",
    method: "HEAD",
    first: `HTTP/1.1 200 OK\r\ncontent-length: ${FAKE.length}\r\n\r\n`,
    late: FAKE,
  },
  {
    name: "an answer with a second one in the same write",
    method: "GET",
    first: `HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello${FAKE}`,
    late: "",
  },
];

for (const client of CLIENTS) {
  for (const late of LATE) {
    Deno.test(`${client.name}: bytes after ${late.name} on an idle connection never answer a later request`, async () => {
      const upstream = startRawUpstream(async (conn) => {
        const first = await conn.request();
        if (!first) return;
        if (conn.index > 0) {
          await conn.write(genuine(first.target));
          return await answerAll(conn);
        }
        await conn.write(late.first);
        await conn.sleep(100);
        if (late.late) await conn.write(late.late);
        await answerAll(conn);
      });
      await withGateway(client, upstream, async (gw) => {
        const first = await fetch(`${gw.url}/up/first`, { method: late.method });
        await first.body?.cancel();
        assert.ok(first.status < 300, `first answer ${first.status}`);
        await sleep(250); // the late bytes have arrived while the connection sat idle
        for (const path of ["/second", "/third", "/fourth"]) {
          const response = await fetch(`${gw.url}/up${path}`);
          const text = await response.text();
          assert.equal(response.status, 200, `${path}: ${text}`);
          assert.equal(text, `real ${path}`, `${path} got another request's answer`);
        }
        assert.ok(upstream.connections() >= 2, "the connection the late bytes came on was dropped");
      });
    });
  }
}

/** Answers nginx refuses (502, connection closed), with why. */
const REFUSED: [string, string][] = [
  [
    "a length beyond any integer",
    "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\nhello",
  ],
  [
    "a length beyond a safe integer",
    "HTTP/1.1 200 OK\r\ncontent-length: 9007199254740993\r\n\r\nhello",
  ],
  ["a signed length", "HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello"],
  ["a list of lengths", "HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhello"],
  [
    "two lengths that differ",
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
  ],
  ["two equal lengths", "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\nhello"],
  [
    "a length and a transfer coding",
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "a transfer coding other than chunked alone",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "two transfer-encoding fields",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "chunked in an HTTP/1.0 answer",
    "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "a folded header line",
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\n folded\r\n\r\nhello",
  ],
  ["bare LF line ends", "HTTP/1.1 200 OK\ncontent-length: 5\n\nhello"],
  ["a bare LF inside the head", "HTTP/1.1 200 OK\r\nx-a: 1\ncontent-length: 5\r\n\r\nhello"],
  ["a bare CR inside a value", "HTTP/1.1 200 OK\r\nx-a: 1\rx\r\ncontent-length: 5\r\n\r\nhello"],
  ["a NUL inside a value", "HTTP/1.1 200 OK\r\nx-a: 1\0x\r\ncontent-length: 5\r\n\r\nhello"],
  ["whitespace before a colon", "HTTP/1.1 200 OK\r\ncontent-length : 5\r\n\r\nhello"],
  ["a status of four digits", "HTTP/1.1 2000 OK\r\ncontent-length: 5\r\n\r\nhello"],
  [
    "a chunk size that is not hex",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "a negative chunk size",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "a chunk size with a hex prefix",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "an overflowing chunk size",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
  ],
  [
    "chunk data without its CRLF",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
  ],
  [
    "a bare LF after a chunk size",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
  ],
];

for (const client of CLIENTS) {
  for (const [name, answer] of REFUSED) {
    const gap = client.upstreamFetch ? FETCH_GAPS[name] : undefined;
    Deno.test({
      name: `${client.name}: an answer with ${name} is a 502, its connection closed` +
        (gap ? ` (known gap: ${gap})` : ""),
      ignore: gap !== undefined,
    }, async () => {
      let closed: boolean | undefined;
      const upstream = startRawUpstream(async (conn) => {
        if (conn.index > 0) return await answerAll(conn);
        if (!await conn.request()) return;
        await conn.write(answer);
        // Reading on would take a second request as well, were the connection reused.
        closed = await conn.closedByPeer(1_500);
      });
      await withGateway(client, upstream, async (gw) => {
        const response = await fetch(`${gw.url}/up/bad`);
        const text = await response.text();
        assert.equal(response.status, 502, `answered ${response.status}: ${text}`);
        const next = await fetch(`${gw.url}/up/next`);
        assert.equal(await next.text(), "real /next");
        assert.equal(upstream.requests.at(-1)?.connection, 1, "the next request went elsewhere");
        while (closed === undefined) await sleep(10);
        assert.equal(closed, true, "the gateway closed the connection");
      });
    });
  }
}

for (const client of CLIENTS) {
  const gap = client.upstreamFetch ? FETCH_GAPS["a POST dropped unanswered"] : undefined;
  Deno.test({
    name:
      `${client.name}: a POST the upstream read and dropped unanswered is a 502, never sent again` +
      (gap ? ` (known gap: ${gap})` : ""),
    ignore: gap !== undefined,
  }, async () => {
    const upstream = startRawUpstream(async (conn) => {
      if (conn.index > 0) return await answerAll(conn);
      const warm = await conn.request();
      if (!warm) return;
      await conn.write(genuine(warm.target));
      await conn.request(); // read in full, then the connection drops without an answer
    });
    await withGateway(client, upstream, async (gw) => {
      assert.equal(await (await fetch(`${gw.url}/up/warm`)).text(), "real /warm");
      const charge = await fetch(`${gw.url}/up/charge`, { method: "POST", body: '{"n":1}' });
      await charge.body?.cancel();
      assert.equal(charge.status, 502);
      const posts = upstream.requests.filter((request) => request.method === "POST");
      assert.equal(posts.length, 1, "the upstream saw the POST once");
    });
  });

  Deno.test(`${client.name}: a large streamed POST the upstream read and dropped is never sent again`, async () => {
    // Past the size sent with its head: the HTTP/1.1 client hands it to the runtime's fetch,
    // which streams it, and a stream cannot be sent twice.
    const large = "x".repeat(200_000);
    const upstream = startRawUpstream(async (conn) => {
      for (let request = await conn.request(); request; request = await conn.request()) {
        if (request.target === "/charge") return; // read in full, dropped unanswered
        await conn.write(genuine(request.target));
      }
    });
    await withGateway(client, upstream, async (gw) => {
      const warm = await fetch(`${gw.url}/up/warm`, { method: "POST", body: large });
      assert.equal(await warm.text(), "real /warm");
      const charge = await fetch(`${gw.url}/up/charge`, { method: "POST", body: large });
      await charge.body?.cancel();
      assert.equal(charge.status, 502);
      const charges = upstream.requests.filter((request) => request.target === "/charge");
      assert.equal(charges.length, 1, "the upstream saw the POST once");
      assert.equal(charges[0].body.length, large.length);
    });
  });

  Deno.test(`${client.name}: an idempotent request the upstream read and dropped is sent again`, async () => {
    const upstream = startRawUpstream(async (conn) => {
      if (conn.index > 0) return await answerAll(conn);
      const warm = await conn.request();
      if (!warm) return;
      await conn.write(genuine(warm.target));
      await conn.request();
    });
    await withGateway(client, upstream, async (gw) => {
      assert.equal(await (await fetch(`${gw.url}/up/warm`)).text(), "real /warm");
      const put = await fetch(`${gw.url}/up/item`, { method: "PUT", body: "{}" });
      assert.equal(await put.text(), "real /item");
      assert.equal(upstream.requests.filter((r) => r.method === "PUT").length, 2);
    });
  });

  Deno.test(`${client.name}: a POST after the upstream closed an idle connection goes once, on a new one`, async () => {
    const upstream = startRawUpstream(async (conn) => {
      if (conn.index > 0) return await answerAll(conn);
      const warm = await conn.request();
      if (!warm) return;
      await conn.write(genuine(warm.target));
      await conn.sleep(20); // then FIN while the connection is idle
    });
    await withGateway(client, upstream, async (gw) => {
      assert.equal(await (await fetch(`${gw.url}/up/warm`)).text(), "real /warm");
      await sleep(200);
      const charge = await fetch(`${gw.url}/up/charge`, { method: "POST", body: '{"n":1}' });
      assert.equal(await charge.text(), "real /charge");
      const posts = upstream.requests.filter((request) => request.method === "POST");
      assert.equal(posts.length, 1);
      assert.equal(posts[0].connection, 1);
    });
  });
}
