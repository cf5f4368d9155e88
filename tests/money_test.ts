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

Deno.test("spend: a dollar budget holds 5 worst cases of 30 concurrent requests, and refuses the rest in dollars", async () => {
  // Output dominates: 1000 tokens at $2/M is $0.002; "hi" is a few tokens at $1/M.
  // The upstream holds every answer until all refusals are in (or a sixth gets through), so
  // no settlement frees room while the others race.
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
  const gateway = await startGateway(
    `prices:
  test-model: { input: 1, output: 2 }
routes:
  - name: openai
    path: /openai
    preset: openai
    upstream: ${held.url}
    limits: { spend: $0.011/day }
`,
    ENV,
  );
  try {
    let refusals = 0;
    const answers = await Promise.all(Array.from({ length: 30 }, async () => {
      const response = await chat(gateway.url, HI);
      const text = await response.text();
      // every refusal is in: let the five through
      if (response.status !== 200 && ++refusals === 25) release.resolve();
      return { status: response.status, text, retry: response.headers.get("retry-after") };
    }));
    const passed = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(passed, 5, JSON.stringify(answers.map((a) => a.status)));
    assert.equal(refused.length, 25);
    for (const refusal of refused) {
      assert.match(refusal.retry ?? "", /^[1-9]\d*$/);
      const error = JSON.parse(refusal.text).error;
      assert.equal(error.type, "rate_limited");
      assert.match(error.message, /could cost up to \$0\.002\d*; \$[\d.]+ of \$0\.011 left/);
    }
  } finally {
    release.resolve();
    await gateway.close();
    await held.close();
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
