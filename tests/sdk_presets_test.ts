/**
 * Each provider's official SDK, run under Node as users run it, through its preset route
 * against a loopback mock that answers as the provider does (and refuses a body field it does
 * not know, as the provider does): `openai`, `@anthropic-ai/sdk`, `@google/genai`, the Vercel
 * AI SDK with its OpenAI, Anthropic and Google providers, and `@fal-ai/client`. One npm
 * install of pinned versions for all; the SDK scripts run in parallel against one gateway.
 * Streams run in lockstep with their readers: the mock sends the rest of a stream only after
 * the script has read its first piece of text and said so, so a stream held back anywhere on
 * the way would stall, without a clock deciding anything.
 */
import assert from "node:assert/strict";
import { run } from "../scripts/npm/types.ts";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type ProviderMock, startProviderMock } from "./helpers/provider_mock.ts";
import { Http1Client } from "../src/proxy/http1/client.ts";

const APPS = new URL("./testdata/sdk_apps/", import.meta.url).pathname;

/** The SDKs, pinned (checked against the registry when written). */
const PACKAGES = {
  openai: "7.59.0",
  "@anthropic-ai/sdk": "1.14.0",
  "@google/genai": "3.3.0",
  ai: "7.0.173",
  "@ai-sdk/openai": "4.0.118",
  "@ai-sdk/anthropic": "4.0.105",
  "@ai-sdk/google": "4.0.121",
  "@fal-ai/client": "1.10.1",
};

const CLIENT_TOKEN = "kw-client-token-1";
const KEYS = {
  KW_OPENAI: "sk-server-OPENAI",
  KW_ANTHROPIC: "sk-ant-server-ANTHROPIC",
  KW_GEMINI: "server-GEMINI",
  KW_FAL: "fal-server-FAL",
};

function config(mock: string): string {
  const route = (name: string, preset: string, prefix: string, extra = "") => `
  - name: ${name}
    path: /${name}
    preset: ${preset}
    upstream: ${mock}/${prefix}
    key: { env: KW_${prefix.toUpperCase()} }
    auth: token${extra}`;
  return `
clients:
  - { id: sdk-user, token: ${CLIENT_TOKEN} }
routes:${route("openai", "openai", "openai", "\n    body: { max_tokens: 50 }")}${
    route("openai-models", "openai", "openai", "\n    body: { models: [gpt-4o-transcribe] }")
  }${
    route(
      "openai-budget",
      "openai",
      "openai",
      // Each call reserves its prompt as the tokenizer counts it (under 20 tokens) and its
      // 10-token cap, then settles to the 20 used: three fit in 70, a fourth never does.
      "\n    body: { max_tokens: 10 }\n    limits: { tokens: 70/min }",
    )
  }${
    // A budget of 1,000 tokens for streams of 300 at most that each use 20 (Gemini: 16).
    ["openai", "anthropic", "gemini"].map((provider) =>
      route(
        `${provider}-streams`,
        provider,
        provider,
        '\n    limits: { tokens: 1000/hour }\n    headers: { x-budget-streams: "1" }',
      )
    ).join("")}${route("anthropic", "anthropic", "anthropic", "\n    body: { max_tokens: 50 }")}${
    route("gemini", "gemini", "gemini", "\n    body: { max_tokens: 50 }")
  }
  - name: fal
    path: /fal/proxy
    preset: fal
    key: { env: KW_FAL }
    auth: token
`;
}

/** The gateway's upstream client, with fal's hosts sent to the mock's `/fal` instead. */
function upstreamFetch(mock: string): typeof fetch {
  const client = new Http1Client();
  const send = client.fetch as typeof fetch;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname.endsWith("fal.run")) {
      return send(`${mock}/fal${url.pathname}${url.search}`, init);
    }
    return send(input, init);
  };
}

async function installSdks(dir: string) {
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ private: true, type: "module", dependencies: PACKAGES }),
  );
  for await (const entry of Deno.readDir(APPS)) {
    await Deno.copyFile(`${APPS}${entry.name}`, `${dir}/${entry.name}`);
  }
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], dir, 180_000);
}

/** Runs one SDK script under Node; returns what it printed as its last line. */
async function runScript(dir: string, script: string, gateway: string, mock: string) {
  const out = await new Deno.Command("node", {
    args: [script],
    cwd: dir,
    env: { PATH: Deno.env.get("PATH")!, HOME: dir, GATEWAY: gateway, MOCK: mock, CLIENT_TOKEN },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `${script} failed:\n${stdout}\n${stderr}`);
  // deno-lint-ignore no-explicit-any
  return JSON.parse(stdout.split("\n").at(-1)!) as Record<string, any>;
}

/** Every credential or account selector a client sent, as the mock would have seen it. */
const CLIENT_MARKS = [CLIENT_TOKEN, "org-client", "proj-client", "wrkspc_client", "client-project"];

function assertOnlyServerKeys(mock: ProviderMock) {
  const keyOf: Record<string, [string, string]> = {
    openai: ["authorization", `Bearer ${KEYS.KW_OPENAI}`],
    anthropic: ["x-api-key", KEYS.KW_ANTHROPIC],
    gemini: ["x-goog-api-key", KEYS.KW_GEMINI],
    fal: ["authorization", `Key ${KEYS.KW_FAL}`],
  };
  for (const request of mock.requests) {
    const [header, value] = keyOf[request.provider];
    assert.equal(request.headers[header], value, `${request.provider} ${request.path}`);
    const seen = JSON.stringify([request.path, request.headers]);
    for (const mark of CLIENT_MARKS) {
      assert.ok(!seen.includes(mark), `${mark} reached ${request.provider} ${request.path}`);
    }
    for (const header of ["openai-organization", "openai-project", "anthropic-workspace-id"]) {
      assert.equal(request.headers[header], undefined, `${header} reached the provider`);
    }
  }
}

/** The SDKs name themselves in `user-agent`; their scripts run at once against one mock. */
const OPENAI_SDK = /^OpenAI\/JS /;
const ANTHROPIC_SDK = /^Anthropic\/JS /;
const GENAI_SDK = /^google-genai-sdk\//;
const AI_SDK = /ai-sdk-provider-utils\//;

/**
 * The bodies an SDK (by its user agent) sent to `provider` paths matching `path`, in order
 * (not those of the budget-stream routes, which clamp to their budget).
 */
function bodiesOf(mock: ProviderMock, provider: string, path: RegExp, agent: RegExp) {
  return mock.requests.filter((r) =>
    r.provider === provider && path.test(r.path) &&
    agent.test(r.headers["user-agent"] ?? "") && !r.headers["x-budget-streams"]
  ).map((r) => r.body ?? {});
}

Deno.test("SDKs under Node through their presets: calls, streams, keys, usage, clamps, refusals", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-sdks-" });
  const mock = await startProviderMock();
  let gateway: TestGateway | undefined;
  try {
    await installSdks(dir);
    gateway = await startGateway(config(mock.url), { ...KEYS }, undefined, {
      upstreamFetch: upstreamFetch(mock.url),
    });
    const url = gateway.url;
    const [openai, anthropic, genai, aiSdk, fal] = await Promise.all(
      ["openai.mjs", "anthropic.mjs", "genai.mjs", "ai_sdk.mjs", "fal.mjs"].map((script) =>
        runScript(dir, script, url, mock.url)
      ),
    );
    const hello = "Hello from the mock";
    const pieces = ["Hel", "lo", " from", " the", " mock"];

    await t.step("openai: everyday calls succeed, streams arrive piece by piece", () => {
      assert.equal(openai.chat, hello);
      assert.deepEqual(openai.stream, pieces);
      assert.equal(openai.completion, hello);
      assert.equal(openai.response, hello);
      assert.deepEqual(openai.response_stream, pieces);
      assert.deepEqual(openai.embedding, [0.25, -0.5, 1]);
      assert.equal(openai.moderation, false);
      assert.deepEqual(openai.models, ["gpt-4o-mini"]);
      assert.equal(openai.transcription, "hello from the audio");
      assert.equal(openai.speech, 4);
      assert.equal(openai.image, btoa("png"));
    });

    await t.step("openai: the clamp writes each endpoint's own field, and only there", () => {
      const [chat, stream] = bodiesOf(mock, "openai", /^\/v1\/chat\/completions$/, OPENAI_SDK);
      // The client's max_tokens is clamped; no second cap is added beside it.
      assert.equal(chat.max_tokens, 50);
      assert.equal(chat.max_completion_tokens, undefined);
      assert.equal(stream.max_completion_tokens, 50);
      const [completion] = bodiesOf(mock, "openai", /^\/v1\/completions$/, OPENAI_SDK);
      assert.equal(completion.max_tokens, 50);
      for (const body of bodiesOf(mock, "openai", /^\/v1\/responses$/, OPENAI_SDK)) {
        assert.equal(body.max_output_tokens, 50);
        assert.equal(body.max_completion_tokens, undefined);
      }
      for (const path of [/embeddings/, /moderations/, /transcriptions/, /speech/, /images/]) {
        for (const body of bodiesOf(mock, "openai", path, /./)) {
          assert.deepEqual(
            Object.keys(body).filter((key) => key.startsWith("max_")),
            [],
            `${path} got a cap`,
          );
        }
      }
    });

    await t.step("openai: models on a form; budgets charge usage; refused calls stay home", () => {
      assert.deepEqual(openai.models_route, { allowed: "hello from the audio", other: 403 });
      // Three calls settle to 20 tokens each; the fourth's reservation no longer fits in 70.
      assert.deepEqual(openai.budget, ["reached", "reached", "reached", 429]);
      assert.deepEqual(openai.refused, { files: 403, batches: 403, fineTuning: 403, admin: 403 });
      const paths = mock.requests.filter((r) => r.provider === "openai").map((r) => r.path);
      assert.ok(!paths.some((p) => /files|batches|fine_tuning|organization/.test(p)), `${paths}`);
      const charged = gateway!.logs.filter((r) => r.route === "openai" && r.status === 200);
      assert.ok(charged.some((r) => r.tokens?.total === 20), "chat usage is metered");
    });

    await t.step(
      "every SDK's streams pass a 1,000-token budget until the next could not fit, charged what each used",
      () => {
        const used = { openai: 20, anthropic: 20, gemini: 16 };
        for (
          const [provider, result] of [
            ["openai", openai.budget_streams],
            ["anthropic", anthropic.budget_streams],
            ["gemini", genai.budget_streams],
          ] as const
        ) {
          const label = `${provider}: ${JSON.stringify(result)}`;
          assert.equal(result.status, 429, label);
          const [, worst, left] = (/up to (\d+) tokens; (\d+) left/.exec(result.message) ?? [])
            .map(Number);
          // Each stream reserved its prompt as counted (not its JSON bytes) and the 250 clamp...
          assert.ok(worst <= 250 + 30, label);
          // ...and was charged what it used, never more.
          const charged = gateway!.logs.filter((r) =>
            r.route === `${provider}-streams` && r.status === 200
          );
          assert.equal(charged.length, result.passed, label);
          for (const record of charged) {
            assert.equal(record.tokens?.total, used[provider], label);
            assert.equal(record.tokens_estimated, undefined, label);
          }
          // The refused one could not fit beside what the others used (at most one of them
          // still being settled when it came); the one before it did fit.
          const settled = 1000 - result.passed * used[provider];
          assert.ok(left === settled || left === settled + used[provider] - worst, label);
          assert.ok(worst > left, label);
          assert.ok(worst <= settled + used[provider], label);
        }
      },
    );

    await t.step("anthropic: messages, stream, count, models; cap only on messages", () => {
      assert.equal(anthropic.message, hello);
      assert.deepEqual(anthropic.stream.deltas, pieces);
      assert.equal(anthropic.stream.usage.output_tokens, 12);
      assert.equal(anthropic.count, 9);
      assert.deepEqual(anthropic.models, ["claude-sonnet-4-5"]);
      for (const body of bodiesOf(mock, "anthropic", /^\/v1\/messages$/, /./)) {
        assert.equal(body.max_tokens, 50);
      }
      const [count] = bodiesOf(mock, "anthropic", /count_tokens/, ANTHROPIC_SDK);
      assert.equal(count.max_tokens, undefined);
      assert.deepEqual(anthropic.refused, { batches: 403, files: 403, admin: 403 });
      const charged = gateway!.logs.filter((r) => r.route === "anthropic" && r.status === 200);
      assert.ok(charged.some((r) => r.tokens?.total === 20), "message usage is metered");
    });

    await t.step(
      "@google/genai: generate, stream, embed, count, list; cap only in generation",
      () => {
        assert.equal(genai.generate, hello);
        assert.deepEqual(genai.stream, pieces);
        assert.deepEqual(genai.embedding, [0.25, -0.5, 1]);
        assert.equal(genai.count, 6);
        assert.equal(genai.interaction.text, hello);
        const [interaction] = bodiesOf(mock, "gemini", /^\/v1(beta)?\/interactions$/, GENAI_SDK);
        assert.deepEqual(interaction.generation_config, {
          temperature: 0.5,
          max_output_tokens: 50,
        });
        assert.deepEqual(genai.models, ["models/gemini-2.5-flash"]);
        const [generate] = bodiesOf(mock, "gemini", /:generateContent/, GENAI_SDK);
        assert.deepEqual(generate.generationConfig, { maxOutputTokens: 50, temperature: 0.5 });
        const [stream] = bodiesOf(mock, "gemini", /:streamGenerateContent/, GENAI_SDK);
        assert.equal((stream.generationConfig as Record<string, number>).maxOutputTokens, 50);
        for (
          const body of bodiesOf(
            mock,
            "gemini",
            /:(countTokens|embedContent|batchEmbedContents)/,
            /./,
          )
        ) {
          assert.equal(body.generationConfig, undefined);
        }
        assert.deepEqual(genai.refused, { files: 403, caches: 403, batches: 403 });
        const charged = gateway!.logs.filter((r) => r.route === "gemini" && r.status === 200);
        assert.ok(charged.some((r) => r.tokens?.total === 16), "generation usage is metered");
        assert.ok(charged.some((r) => r.tokens?.total === 18), "interaction usage is metered");
      },
    );

    await t.step("Vercel AI SDK: text, streams and embeddings on all three presets", () => {
      assert.deepEqual(aiSdk, {
        openai_text: hello,
        openai_stream: pieces,
        openai_responses_text: hello,
        openai_responses_stream: pieces,
        openai_embed: [0.25, -0.5, 1],
        openai_transcribe: "hello from the audio",
        openai_speech: 4,
        anthropic_text: hello,
        anthropic_stream: pieces,
        google_text: hello,
        google_stream: pieces,
        google_embed: [0.25, -0.5, 1],
      });
      const caps = (provider: string, path: RegExp) =>
        bodiesOf(mock, provider, path, AI_SDK).map((body) =>
          body.max_completion_tokens ?? body.max_output_tokens ?? body.max_tokens ??
            (body.generationConfig as Record<string, unknown> | undefined)?.maxOutputTokens
        );
      assert.deepEqual(caps("openai", /chat\/completions$/), [50, 50]);
      assert.deepEqual(caps("openai", /responses$/), [50, 50]);
      assert.deepEqual(caps("anthropic", /messages$/), [50, 50]);
      assert.deepEqual(caps("gemini", /GenerateContent|generateContent/), [50, 50]);
      assert.deepEqual(caps("openai", /embeddings$/), [undefined]);
      assert.deepEqual(caps("gemini", /embedContent$/), [undefined]);
    });

    await t.step("@fal-ai/client: a run with the server key; fal's token minting refused", () => {
      assert.equal(fal.run.path, "/fal-ai/fast-sdxl");
      assert.deepEqual(fal.run.input, { prompt: "a lighthouse" });
      assert.deepEqual(fal.refused, { token: 403 });
    });

    await t.step("every stream reached its reader piece by piece, in lockstep", () => {
      const names = [
        "openai_chat",
        "openai_responses",
        "anthropic",
        "genai",
        "ai_openai_chat",
        "ai_openai_responses",
        "ai_anthropic",
        "ai_google",
      ];
      assert.deepEqual(mock.locks, Object.fromEntries(names.map((name) => [name, "ack"])));
    });

    await t.step("the mock saw only the server's keys, no client credential or account", () => {
      assertOnlyServerKeys(mock);
      const refused = /files|batches|fine_tuning|organizations?\/|cachedContents|\/tokens/;
      const reached = mock.requests.filter((r) => refused.test(r.path));
      assert.deepEqual(reached, [], "no refused endpoint reached the mock");
    });
  } finally {
    await gateway?.close();
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});
