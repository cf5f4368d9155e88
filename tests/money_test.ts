/**
 * Budgets in dollars that hold: each request reserves what it could cost at its model's
 * prices before it is forwarded, is refused (429) in dollars when that does not fit, and is
 * settled to what the upstream reports, priced by kind; a model without a price is refused
 * (400) before anything leaves; the route's ceiling holds over all its clients; a minted
 * token narrows spend; the log line and the metrics carry the cost.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startGatewayProcess } from "./helpers/process.ts";
import { startRedis } from "./helpers/redis.ts";
import { startRedisCluster } from "./helpers/redis_cluster.ts";
import { serveLoopback } from "./helpers/serve.ts";
import { mintToken } from "../src/auth/mint.ts";

const ENV = { OPENAI_API_KEY: "sk-server", TOKEN_SECRET: "a-secret-of-thirty-two-bytes-or-more!" };

/** A chat completion reporting `usage`. */
function completion(usage: Record<string, unknown>, model = "test-model"): Response {
  return Response.json({
    id: "c1",
    object: "chat.completion",
    created: 1,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage,
  });
}

/** An upstream answering every chat completion with `usage`, counting what reaches it. */
async function upstream(usage: Record<string, unknown>) {
  const seen = { requests: 0, bodies: [] as Record<string, unknown>[] };
  const server = await serveLoopback(async (request) => {
    seen.requests++;
    seen.bodies.push(await request.json().catch(() => ({})));
    return completion(usage);
  });
  return { ...server, seen };
}

function chat(base: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${base}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const HI = { model: "test-model", messages: [{ role: "user", content: "hi" }], max_tokens: 1000 };

/**
 * 30 concurrent requests against a dollar budget that fits 5 worst cases, on gateways sharing
 * `store`: the upstream holds every answer until all refusals are in (or a sixth gets
 * through), so no settlement frees room while the others race.
 */
async function dollarBurst(store: string, processes: 1 | 2) {
  const release = Promise.withResolvers<void>();
  let reached = 0;
  const held = await serveLoopback(async (request) => {
    await request.body?.cancel();
    if (++reached > 5) release.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([release.promise, new Promise((r) => timer = setTimeout(r, 15_000))]);
    clearTimeout(timer);
    return completion({ prompt_tokens: 8, completion_tokens: 1000, total_tokens: 1008 });
  });
  // Output dominates: 1000 tokens at $2/M is $0.002; "hi" is a few tokens at $1/M.
  const yaml = `store: ${store}
prices:
  test-model: { input: 1, output: 2 }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${held.url}
    limits: { spend: $0.011/day }
`;
  const gateways = processes === 1
    ? [await startGateway(yaml, ENV)]
    : await Promise.all([startGatewayProcess(yaml, ENV), startGatewayProcess(yaml, ENV)]);
  try {
    let refusals = 0;
    const answers = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const response = await chat(gateways[i % gateways.length].url, HI);
      const text = await response.text();
      // every refusal is in: let the five through
      if (response.status !== 200 && ++refusals === 25) release.resolve();
      return { status: response.status, text, retry: response.headers.get("retry-after") };
    }));
    return { answers, upstream: reached };
  } finally {
    release.resolve();
    await Promise.all(gateways.map((g) => "stop" in g ? g.stop() : g.close()));
    await held.close();
  }
}

function checkBurst(result: Awaited<ReturnType<typeof dollarBurst>>, label: string) {
  const { answers } = result;
  const statuses = JSON.stringify(answers.map((a) => a.status));
  assert.equal(answers.filter((a) => a.status === 200).length, 5, `${label}: ${statuses}`);
  assert.equal(result.upstream, 5, `${label}: only what passed reached the upstream`);
  const refused = answers.filter((a) => a.status !== 200);
  assert.equal(refused.length, 25, `${label}: ${statuses}`);
  for (const refusal of refused) {
    assert.equal(refusal.status, 429, label);
    assert.match(refusal.retry ?? "", /^[1-9]\d*$/);
    const error = JSON.parse(refusal.text).error;
    assert.equal(error.type, "rate_limited");
    // what it could cost, rounded up; what is left, rounded down; the budget, exactly
    assert.match(error.message, /could cost up to \$0\.002\d*; \$[\d.]+ of \$0\.011 left/);
  }
}

Deno.test("spend, memory store: 30 concurrent requests, a dollar budget of 5 worst cases, exactly 5 pass", async () => {
  checkBurst(await dollarBurst("{ kind: memory }", 1), "memory");
});

Deno.test("spend, two processes on one redis-server: exactly 5 of 30 pass", async () => {
  const redis = await startRedis();
  try {
    checkBurst(await dollarBurst(`{ kind: redis, url: "${redis.url}" }`, 2), "redis");
  } finally {
    await redis.stop();
  }
});

Deno.test("spend, two processes on a 3-node Redis Cluster: exactly 5 of 30 pass", async () => {
  const cluster = await startRedisCluster();
  try {
    const store = `{ kind: redis, cluster: ${JSON.stringify(cluster.urls)} }`;
    checkBurst(await dollarBurst(store, 2), "redis cluster");
  } finally {
    await cluster.stop();
  }
});

Deno.test("spend, two processes on one Deno KV file: exactly 5 of 30 pass", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-kv-" });
  try {
    checkBurst(await dollarBurst(`{ kind: kv, path: "${dir}/limits.kv" }`, 2), "kv");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spend: settlement prices each kind the upstream reports, exact to 1e-8 USD", async () => {
  // gpt-4o-mini from the built-in table: $0.15/M input, $0.075/M cached input, $0.60/M output.
  const mock = await upstream({
    prompt_tokens: 2006,
    completion_tokens: 300,
    total_tokens: 2306,
    prompt_tokens_details: { cached_tokens: 1920 },
  });
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    limits: { spend: $2/day }
`,
    ENV,
  );
  try {
    const response = await chat(gateway.url, { ...HI, model: "gpt-4o-mini", max_tokens: 300 });
    assert.equal(response.status, 200, await response.clone().text());
    await response.body?.cancel();
    await waitFor(() => gateway.logs.length === 1);
    // 86 × 0.15 + 1920 × 0.075 + 300 × 0.6 = 12.9 + 144 + 180 = 336.9 µ$ = $0.0003369
    assert.equal(gateway.logs[0].cost_usd, 0.0003369);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("spend: a model without a price is refused before anything leaves; a listing passes free", async () => {
  const mock = await serveLoopback((request) =>
    new URL(request.url).pathname === "/v1/models"
      ? Response.json({ object: "list", data: [] })
      : completion({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })
  );
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    limits: { spend: $2/day }
`,
    ENV,
  );
  try {
    const unpriced = await chat(gateway.url, { ...HI, model: "no-such-model-anywhere" });
    assert.equal(unpriced.status, 400);
    assert.match((await unpriced.json()).error.message, /no-such-model-anywhere.*prices:/);
    const listing = await fetch(`${gateway.url}/openai/v1/models`);
    assert.equal(listing.status, 200);
    await listing.body?.cancel();
    await waitFor(() => gateway.logs.length === 2);
    assert.equal(gateway.logs[0].error, "body_refused");
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("spend: the route's ceiling holds over all its clients, each within its own budget", async () => {
  const mock = await upstream({ prompt_tokens: 8, completion_tokens: 1000, total_tokens: 1008 });
  // Each client may spend 2 answers' worth; the route all of them 5.
  const gateway = await startGateway(
    `prices:
  test-model: { input: 1, output: 2 }
clients:
  - { id: alice, token: "\${A}" }
  - { id: bob, token: "\${B}" }
  - { id: carol, token: "\${C}" }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: token
    limits: { spend: $0.0045/day, route: { spend: $0.011/day } }
`,
    { ...ENV, A: "tok-alice", B: "tok-bob", C: "tok-carol" },
  );
  try {
    const statuses: Record<string, number[]> = {};
    for (const who of ["alice", "bob", "carol"]) {
      statuses[who] = [];
      for (let i = 0; i < 3; i++) {
        const response = await chat(gateway.url, HI, { authorization: `Bearer tok-${who}` });
        statuses[who].push(response.status);
        await response.body?.cancel();
      }
    }
    // alice 2 (her own budget), bob 2, carol 1 (the route's ceiling: 5 in all)
    assert.deepEqual(statuses, {
      alice: [200, 200, 429],
      bob: [200, 200, 429],
      carol: [200, 429, 429],
    });
    assert.equal(mock.seen.requests, 5);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("spend: a minted token's spend claim narrows the route's budget", async () => {
  const mock = await upstream({ prompt_tokens: 8, completion_tokens: 1000, total_tokens: 1008 });
  const gateway = await startGateway(
    `prices:
  test-model: { input: 1, output: 2 }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: { jwt: { secret: "\${TOKEN_SECRET}" } }
    limits: { spend: $1/day }
`,
    ENV,
  );
  try {
    const token = await mintToken({
      secret: ENV.TOKEN_SECRET,
      subject: "user-42",
      expiresIn: "5m",
      limits: { spend: "$0.0045/day" },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await chat(gateway.url, HI, { authorization: `Bearer ${token}` });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 429]);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

async function waitFor(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A PNG of `width` × `height` as the provider would read its size, padded to `bytes`. */
function pngDataUrl(width: number, height: number, bytes: number): string {
  const png = new Uint8Array(bytes);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(png.buffer).setUint32(16, width);
  new DataView(png.buffer).setUint32(20, height);
  for (let i = 24; i < bytes; i++) png[i] = (i * 7919) & 0xff;
  let binary = "";
  for (let i = 0; i < png.length; i += 8192) {
    binary += String.fromCharCode(...png.subarray(i, i + 8192));
  }
  return `data:image/png;base64,${btoa(binary)}`;
}

Deno.test("tokens: a photo is reserved at what the provider bills for it, not its base64 bytes", async () => {
  const mock = await upstream({ prompt_tokens: 800, completion_tokens: 100, total_tokens: 900 });
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    limits: { tokens: 100000/day }
`,
    ENV,
  );
  try {
    // A 4032 × 3024 photo, 150 KB of base64: gpt-4o bills any image at most 1,445 tokens.
    const image = pngDataUrl(4032, 3024, 150 * 1024);
    const response = await chat(gateway.url, {
      model: "gpt-4o",
      max_tokens: 300,
      messages: [{
        role: "user",
        content: [{ type: "text", text: "What is this?" }, {
          type: "image_url",
          image_url: { url: image },
        }],
      }],
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.body?.cancel();
    assert.equal(mock.seen.requests, 1);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test('tokens: "hi" with max_tokens 40 reserves what it could use, so a budget of 200 passes many', async () => {
  const mock = await upstream({ prompt_tokens: 8, completion_tokens: 4, total_tokens: 12 });
  const gateway = await startGateway(
    `routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    limits: { tokens: 200/day }
`,
    ENV,
  );
  try {
    let passed = 0;
    let refusal = "";
    for (let i = 0; i < 30; i++) {
      const response = await chat(gateway.url, {
        model: "gpt-4o-mini",
        max_tokens: 40,
        messages: [{ role: "user", content: "hi" }],
      });
      if (response.status !== 200) {
        refusal = (await response.json()).error.message;
        break;
      }
      passed++;
      await response.body?.cancel();
      await waitFor(() => gateway.logs.length === passed);
    }
    // "hi" reserves at most 60 tokens (its text, the chat format's overhead, and 40 out), and
    // each answer settles to the 12 it used: 200 holds 12 of them before one cannot fit.
    const [, worst] = /up to (\d+) tokens/.exec(refusal) ?? [];
    assert.ok(Number(worst) <= 60, refusal);
    assert.ok(passed > 5, `${passed} passed`);
    assert.equal(passed, Math.floor((200 - Number(worst)) / 12) + 1, refusal);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("status: the admin view lists every client of the window with its tokens, spend and what is left", async () => {
  const mock = await upstream({ prompt_tokens: 8, completion_tokens: 92, total_tokens: 100 });
  const admin = "adm-token-of-the-owner";
  const digest = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(admin))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const gateway = await startGateway(
    `server:
  status: /keyward/status
  admin: { token_sha256: "${digest}" }
prices:
  test-model: { input: 1, output: 2 }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    auth: { jwt: { secret: "\${TOKEN_SECRET}" } }
    limits: { tokens: 10000/day, spend: $1/day, route: { spend: $5/day } }
`,
    ENV,
  );
  try {
    // Two people the config has never heard of, known only by their tokens' subjects.
    for (const [subject, calls] of [["user-a", 2], ["user-b", 1]] as const) {
      const token = await mintToken({ secret: ENV.TOKEN_SECRET, subject, expiresIn: "5m" });
      for (let i = 0; i < calls; i++) {
        const response = await chat(gateway.url, HI, { authorization: `Bearer ${token}` });
        assert.equal(response.status, 200);
        await response.body?.cancel();
      }
    }
    await waitFor(() => gateway.logs.length === 3);
    const status = await fetch(`${gateway.url}/keyward/status`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const report = await status.json();
    const byId = Object.fromEntries(
      report.clients.map((c: { id: string; routes: unknown[] }) => [c.id, c.routes[0]]),
    );
    assert.deepEqual(Object.keys(byId).sort(), ["user-a", "user-b"]);
    // 100 tokens each: 8 in at $1/M and 92 out at $2/M is $0.000192 an answer.
    assert.deepEqual(byId["user-a"].tokens.used, 200);
    assert.equal(byId["user-a"].tokens.remaining, 9800);
    assert.equal(byId["user-a"].spend.used, 0.000384);
    assert.equal(byId["user-a"].spend.remaining, 1 - 0.000384);
    assert.equal(byId["user-b"].spend.used, 0.000192);
    const route = report.routes[0];
    assert.equal(route.ceiling.spend.used, 0.000576);
    assert.equal(route.stats.day.total.spend_usd, 0.000576);
    // Without the admin token: no clients.
    const anyone = await (await fetch(`${gateway.url}/keyward/status`)).json();
    assert.equal(anyone.clients, undefined);
  } finally {
    await gateway.close();
    await mock.close();
  }
});

Deno.test("alerts: each fraction of a budget is announced once per window, across instances", async () => {
  const notices: Record<string, unknown>[] = [];
  const hook = await serveLoopback(async (request) => {
    notices.push(await request.json());
    return new Response(null, { status: 204 });
  });
  const mock = await upstream({ prompt_tokens: 8, completion_tokens: 92, total_tokens: 100 });
  const redis = await startRedis();
  const yaml = `server:
  alerts: { webhook: "${hook.url}/hook", at: [0.5, 1] }
store: { kind: redis, url: "${redis.url}" }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${mock.url}
    limits: { tokens: 1000/day }
    body: { max_tokens: 92 }
`;
  const gateways = await Promise.all([
    startGatewayProcess(yaml, ENV),
    startGatewayProcess(yaml, ENV),
  ]);
  try {
    // Each answer uses 100 of the 1,000: alternating instances, ten fill the budget.
    let passed = 0;
    for (let i = 0; i < 12; i++) {
      const response = await chat(gateways[i % 2].url, {
        ...HI,
        model: "gpt-4o-mini",
        max_tokens: 92,
      });
      if (response.status === 200) passed++;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => notices.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300)); // no late duplicate
    const fractions = notices.map((n) => n.fraction).sort();
    assert.deepEqual(fractions, [0.5, 1], JSON.stringify(notices));
    for (const notice of notices) {
      assert.equal(notice.event, "budget_threshold");
      assert.equal(notice.route, "openai");
      assert.equal(notice.client, "127.0.0.1");
      assert.equal(notice.limit, "tokens");
      assert.ok(Number(notice.used) >= Number(notice.fraction) * 1000);
      assert.match(String(notice.window_reset), /^\d{4}-\d\d-\d\dT/);
    }
    assert.equal(passed, 10);
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await redis.stop();
    await mock.close();
    await hook.close();
  }
});
