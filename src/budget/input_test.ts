import assert from "node:assert/strict";
import { base64, jpeg, mp3, pdf, png, wav } from "./fixtures_test.ts";
import { type BoundContext, boundRequest, type RequestBound } from "./input.ts";
import { geminiImageTokens, openaiImageTokens } from "./media_tokens.ts";
import { counterFor, loadEncoding } from "./tokenize.ts";

const encoder = new TextEncoder();
const CHAT = "/v1/chat/completions";
const MESSAGES = "/v1/messages";
const gemini = (model: string, action = "generateContent") => `/v1beta/models/${model}:${action}`;

/** Bounds `body` (an object, or raw text) and waits for the tokenizer if it must. */
function bound(
  body: unknown,
  context: Partial<BoundContext> & Pick<BoundContext, "format" | "path">,
) {
  const bytes = encoder.encode(typeof body === "string" ? body : JSON.stringify(body));
  return Promise.resolve(boundRequest(bytes, { outputCap: 0, deadlineMs: 1000, ...context }));
}

Deno.test("boundRequest: waits for a tokenizer that is still loading, then answers at once", async () => {
  const body = encoder.encode(
    JSON.stringify({ model: "gpt-4", messages: [{ role: "user", content: "hi" }] }),
  );
  // a long deadline: loading may leave a collection to run, which a busy machine stretches
  const context: BoundContext = { format: "openai", path: CHAT, outputCap: 10, deadlineMs: 1000 };
  const loading = counterFor("cl100k_base") === undefined;
  const first = boundRequest(body, context);
  if (loading) assert.ok(first instanceof Promise);
  assert.equal((await first).tokens, 48 - 40 + 10);
  const second = boundRequest(body, context);
  assert.ok(!(second instanceof Promise));
});

Deno.test('boundRequest: "hi" with max_tokens 40 reserves at most 60 on each provider', async () => {
  const openai = await bound(
    { model: "gpt-4o", max_tokens: 40, messages: [{ role: "user", content: "hi" }] },
    { format: "openai", path: CHAT, outputCap: 40 },
  );
  const anthropic = await bound(
    { model: "claude-sonnet-4-5", max_tokens: 40, messages: [{ role: "user", content: "hi" }] },
    { format: "anthropic", path: MESSAGES, outputCap: 40 },
  );
  const google = await bound(
    {
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      generationConfig: { maxOutputTokens: 40 },
    },
    { format: "gemini", path: gemini("gemini-2.5-flash"), outputCap: 40 },
  );
  assert.deepEqual([openai.tokens, anthropic.tokens, google.tokens], [48, 57, 51]);
  assert.equal(google.model, "gemini-2.5-flash");
  for (const b of [openai, anthropic, google]) {
    assert.ok(b.tokens <= 60);
    assert.equal(b.output.tokens, 40);
    assert.equal(b.input.unbounded, undefined);
  }
});

Deno.test("boundRequest: gpt-4o with a 150 KB photo and max_tokens 300 reserves at most 3,000", async () => {
  const photo = jpeg(4032, 3024, 7000);
  assert.ok(photo.length > 150_000);
  const body = {
    model: "gpt-4o",
    max_tokens: 300,
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is in this photo?" },
        { type: "image_url", image_url: { url: `data:image/jpeg;base64,${base64(photo)}` } },
      ],
    }],
  };
  const b = await bound(body, { format: "openai", path: CHAT, outputCap: 300 });
  // priming 3, message 3, role 1, text 6, the image's 4 tiles 765, output 300
  assert.equal(b.tokens, 3 + 3 + 1 + 6 + 765 + 300);
  assert.ok(b.tokens <= 3000 && JSON.stringify(body).length > 200_000);
  // the same photo by URL costs the most any image costs
  body.messages[0].content[1] = {
    type: "image_url",
    image_url: { url: "https://example.com/p.jpg" },
  };
  assert.equal(
    (await bound(body, { format: "openai", path: CHAT, outputCap: 300 })).tokens,
    1078 - 765 + 1445,
  );
});

Deno.test("boundRequest: images on Claude and Gemini from their size", async () => {
  const data = base64(await png(1000, 500));
  const claude = await bound({
    model: "claude-sonnet-4-5",
    messages: [{
      role: "user",
      content: [{ type: "image", source: { type: "base64", media_type: "image/png", data } }],
    }],
  }, { format: "anthropic", path: MESSAGES });
  assert.equal(claude.input.text, 10 + 5 + 2 + 667); // 1000 x 500 / 750
  const flash = await bound({
    contents: [{ parts: [{ inlineData: { mimeType: "image/png", data } }] }],
  }, { format: "gemini", path: gemini("gemini-2.0-flash") });
  const tiles = geminiImageTokens("gemini-2.0-flash", { width: 1000, height: 500 })!;
  assert.ok(tiles >= 258 * 2); // two 768-px tiles, or more by the crop-unit reading
  assert.equal(flash.input.text, 3 + 5 + 1 + tiles);
  const snake = await bound({
    contents: [{ parts: [{ inline_data: { mime_type: "image/png", data } }] }],
  }, { format: "gemini", path: gemini("gemini-2.0-flash") });
  assert.equal(snake.input.text, flash.input.text);
});

/** The project's documents: real text for the soundness corpus. */
async function corpus(): Promise<string[]> {
  const texts: string[] = [];
  for await (const entry of Deno.readDir(new URL("../../docs/", import.meta.url))) {
    const text = await Deno.readTextFile(new URL(`../../docs/${entry.name}`, import.meta.url));
    for (let i = 0; i < text.length; i += 3000) texts.push(text.slice(i, i + 1000 + (i % 4000)));
  }
  return texts;
}

Deno.test("boundRequest: OpenAI text is never below its exact count (cookbook framing)", async () => {
  const o200k = (await loadEncoding("o200k_base"))!;
  const texts = await corpus();
  let checked = 0;
  for (let i = 0; i + 2 < texts.length; i += 3) {
    const [system, user, reply] = texts.slice(i, i + 3);
    const messages = [
      { role: "system", content: system },
      { role: "user", name: "ada", content: user },
      { role: "assistant", content: reply },
    ];
    const exact = 3 + messages.reduce(
      (sum, m) => sum + 3 + o200k(m.role) + o200k(m.content) + (m.name ? o200k(m.name) + 1 : 0),
      0,
    );
    const b = await bound({ model: "gpt-4o-mini", messages }, { format: "openai", path: CHAT });
    assert.equal(b.input.text, exact); // whole strings are counted exactly
    // the same text in parts, however the upstream joins them
    const parts = [user.slice(0, 300), user.slice(300, 700), user.slice(700)].map((text) => ({
      type: "text",
      text,
    }));
    const split = await bound({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: parts }],
    }, {
      format: "openai",
      path: CHAT,
    });
    for (const joiner of ["", " ", "\n", "\n\n"]) {
      const joined = 3 + 3 + 1 + o200k(parts.map((p) => p.text).join(joiner));
      assert.ok(split.input.text >= joined, `joined with ${JSON.stringify(joiner)}`);
    }
    checked++;
  }
  assert.ok(checked >= 10);
});

Deno.test("boundRequest: images are never below the documented formula", async () => {
  for (
    const [width, height] of [[64, 48], [512, 512], [513, 513], [1920, 1080], [4032, 3024], [
      300,
      9000,
    ]]
  ) {
    const url = `data:image/jpeg;base64,${base64(jpeg(width, height))}`;
    for (const model of ["gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "o3", "gpt-5"]) {
      const b = await bound({
        model,
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }],
      }, { format: "openai", path: CHAT });
      const framing = 3 + 3 + 1;
      assert.equal(b.input.text - framing, openaiImageTokens(model, { width, height }));
    }
  }
});

Deno.test("boundRequest: a body that is not a JSON object is bounded by its bytes", async () => {
  for (const body of ["not json", "[1,2,3]", '"a string"', "{"]) {
    const b = await bound(body, { format: "openai", path: CHAT, outputCap: 100 });
    assert.equal(b.input.text, encoder.encode(body).length);
    assert.equal(b.tokens, encoder.encode(body).length + 100);
  }
  const other = await bound({ prompt: "a cat" }, {
    format: "openai",
    path: "/v1/images/generations",
    outputCap: 7,
  });
  assert.equal(other.endpoint, "other");
  assert.equal(other.tokens, encoder.encode('{"prompt":"a cat"}').length + 7);
});

Deno.test("boundRequest: counting endpoints cost nothing", async () => {
  for (
    const [format, path] of [
      ["anthropic", "/v1/messages/count_tokens"],
      ["gemini", gemini("gemini-2.5-flash", "countTokens")],
      ["openai", "/v1/responses/input_tokens"],
      ["openai", "/v1/moderations"],
    ] as const
  ) {
    const b = await bound({ model: "m", input: "x".repeat(1000) }, {
      format,
      path,
      outputCap: 100,
    });
    assert.equal(b.endpoint, "free");
    assert.equal(b.tokens, 0);
  }
});

Deno.test("boundRequest: the output is the cap times the completions asked for", async () => {
  const hi = [{ role: "user", content: "hi" }];
  const chat = (extra: object) =>
    bound({ model: "gpt-4o", messages: hi, ...extra }, {
      format: "openai",
      path: CHAT,
      outputCap: 100,
    });
  assert.equal((await chat({ n: 3 })).output.tokens, 300);
  const predicted = await chat({
    prediction: { type: "content", content: "hello world hello world" },
  });
  assert.equal(predicted.output.tokens, 104);
  assert.equal(predicted.input.text, 8);
  assert.ok((await chat({ modalities: ["text", "audio"] })).output.audio);
  const legacy = await bound({
    model: "gpt-3.5-turbo-instruct",
    prompt: ["a", "b"],
    n: 2,
    best_of: 5,
  }, {
    format: "openai",
    path: "/v1/completions",
    outputCap: 10,
  });
  assert.equal(legacy.output.tokens, 100);
  const embeddings = await bound({
    model: "text-embedding-3-small",
    input: ["hello world", [1, 2, 3]],
  }, {
    format: "openai",
    path: "/v1/embeddings",
    outputCap: 100,
  });
  assert.deepEqual([embeddings.input.text, embeddings.output.tokens], [2 + 3, 0]);
  const candidates = await bound({
    contents: [{ parts: [{ text: "hi" }] }],
    generationConfig: { candidateCount: 4, responseModalities: ["TEXT", "IMAGE"] },
  }, {
    format: "gemini",
    path: gemini("gemini-2.5-flash-image", "streamGenerateContent"),
    outputCap: 50,
  });
  assert.equal(candidates.output.tokens, 200);
  assert.ok(candidates.output.image);
  const embed = await bound({ requests: [{ content: { parts: [{ text: "abc" }] } }] }, {
    format: "gemini",
    path: gemini("gemini-embedding-001", "batchEmbedContents"),
    outputCap: 50,
  });
  assert.deepEqual([embed.endpoint, embed.input.text, embed.output.tokens], [
    "embeddings",
    5 + 1 + 3,
    0,
  ]);
});

Deno.test("boundRequest: audio by its length, PDFs by their pages", async () => {
  const clip = base64(wav(3));
  const openai = await bound({
    model: "gpt-4o-audio-preview",
    messages: [{
      role: "user",
      content: [{ type: "input_audio", input_audio: { data: clip, format: "wav" } }],
    }],
  }, { format: "openai", path: CHAT });
  assert.equal(openai.input.audio, 3 * 20);
  const gem = await bound({
    contents: [{ parts: [{ inlineData: { mimeType: "audio/mp3", data: base64(mp3(10_000)) } }] }],
  }, { format: "gemini", path: gemini("gemini-2.5-flash") });
  assert.equal(gem.input.audio, 10 * 32);
  const doc = btoa(pdf(3));
  const claude = await bound({
    model: "claude-sonnet-4-5",
    messages: [{
      role: "user",
      content: [{
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: doc },
      }],
    }],
  }, { format: "anthropic", path: MESSAGES });
  assert.equal(claude.input.text, 10 + 5 + 2 + 50 + 3 * 4650);
  const flash = await bound({
    contents: [{ parts: [{ inlineData: { mimeType: "application/pdf", data: doc } }] }],
  }, { format: "gemini", path: gemini("gemini-2.5-flash") });
  assert.equal(flash.input.text, 3 + 5 + 1 + 3 * 258);
  const chat = await bound({
    model: "gpt-4o",
    messages: [{
      role: "user",
      content: [{ type: "file", file: { file_data: `data:application/pdf;base64,${doc}` } }],
    }],
  }, { format: "openai", path: CHAT });
  assert.equal(chat.input.text, 7 + 3 * (1445 + 3000));
});

Deno.test("boundRequest: input whose size the body does not show is unbounded", async () => {
  const cases: [RequestBound, string][] = [
    [
      await bound({ model: "gpt-4o", input: "hi", previous_response_id: "resp_1" }, {
        format: "openai",
        path: "/v1/responses",
      }),
      "stored",
    ],
    [
      await bound({ model: "gpt-4o", input: "hi", tools: [{ type: "web_search" }] }, {
        format: "openai",
        path: "/v1/responses",
      }),
      "web_search",
    ],
    [
      await bound({ model: "gpt-4o", input: [{ type: "item_reference", id: "msg_1" }] }, {
        format: "openai",
        path: "/v1/responses",
      }),
      "item_reference",
    ],
    [
      await bound({
        model: "gpt-4o",
        input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }],
      }, { format: "openai", path: "/v1/responses" }),
      "file",
    ],
    [
      await bound({ model: "gpt-4o", input: "summarise" }, {
        format: "openai",
        path: "/v1/responses/compact",
      }),
      "compaction",
    ],
    [
      await bound({
        model: "my-model",
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }],
        }],
      }, { format: "openai", path: CHAT }),
      "images",
    ],
    [
      await bound({
        model: "gpt-4o-audio-preview",
        messages: [{
          role: "user",
          content: [{ type: "input_audio", input_audio: { data: btoa("OggS..."), format: "mp3" } }],
        }],
      }, { format: "openai", path: CHAT }),
      "audio",
    ],
    [
      await bound({
        model: "claude-sonnet-4-5",
        messages: [{
          role: "user",
          content: [{ type: "document", source: { type: "url", url: "https://x/a.pdf" } }],
        }],
      }, { format: "anthropic", path: MESSAGES }),
      "URL",
    ],
    [
      await bound({
        model: "claude-sonnet-4-5",
        messages: [],
        tools: [{ type: "web_search_20250305", name: "web_search" }],
      }, { format: "anthropic", path: MESSAGES }),
      "web_search",
    ],
    [
      await bound({
        contents: [{ parts: [{ fileData: { mimeType: "video/mp4", fileUri: "https://x" } }] }],
      }, { format: "gemini", path: gemini("gemini-2.5-flash") }),
      "URI",
    ],
    [
      await bound({ contents: [{ parts: [{ text: "hi" }] }], tools: [{ googleSearch: {} }] }, {
        format: "gemini",
        path: gemini("gemini-2.5-flash"),
      }),
      "googleSearch",
    ],
    [
      await bound({ contents: [], cachedContent: "cachedContents/1" }, {
        format: "gemini",
        path: gemini("gemini-2.5-flash"),
      }),
      "cached",
    ],
    [
      await bound({ contents: [{ parts: [{ newKindOfMedia: { uri: "x" } }] }] }, {
        format: "gemini",
        path: gemini("gemini-2.5-flash"),
      }),
      "newKindOfMedia",
    ],
    [
      await bound({ model: "gemini-2.5-flash", input: "hi", previous_interaction_id: "i1" }, {
        format: "gemini",
        path: "/v1beta/interactions",
      }),
      "previous",
    ],
  ];
  for (const [b, reason] of cases) {
    assert.equal(b.input.unbounded, true, reason);
    assert.ok(b.input.reason?.includes(reason), `${b.input.reason} should say ${reason}`);
  }
  // an image by URL is still bounded where the provider documents a most per image
  const gem3 = await bound({
    contents: [{ parts: [{ fileData: { mimeType: "image/png", fileUri: "https://x" } }] }],
  }, { format: "gemini", path: gemini("gemini-3-pro-preview") });
  assert.deepEqual([gem3.input.unbounded, gem3.input.text], [undefined, 3 + 5 + 1 + 1120]);
});

Deno.test("boundRequest: Anthropic tools, cache writes and echoed thinking", async () => {
  const b = await bound({
    model: "claude-sonnet-4-5",
    system: "Be brief.",
    tools: [
      {
        name: "get_weather",
        input_schema: { type: "object" },
        cache_control: { type: "ephemeral" },
      },
      { type: "bash_20250124", name: "bash" },
    ],
    messages: [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Look it up.", signature: "c2ln" },
          { type: "tool_use", id: "t1", name: "get_weather", input: { city: "Oslo" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "sunny" }] },
    ],
  }, { format: "anthropic", path: MESSAGES, outputCap: 1000 });
  assert.equal(b.input.cacheWrite, "5m");
  assert.ok(b.input.text > 600 + 1500);
  assert.equal(b.input.unbounded, undefined);
  const hour = await bound({
    model: "claude-sonnet-4-5",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "x", cache_control: { type: "ephemeral", ttl: "1h" } }],
    }],
  }, { format: "anthropic", path: MESSAGES });
  assert.equal(hour.input.cacheWrite, "1h");
});

Deno.test("boundRequest: adversarial 100 KB prompts are bounded in under 20 ms", async () => {
  await loadEncoding("o200k_base");
  let seed = 5;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const prompts = {
    "a": "a".repeat(100_000),
    "letters": Array.from(
      { length: 100_000 },
      () => String.fromCharCode(97 + Math.floor(random() * 26)),
    ).join(""),
    "CJK": Array.from(
      { length: 33_333 },
      () => String.fromCharCode(0x4e00 + Math.floor(random() * 3000)),
    ).join(""),
    "spaces": " ".repeat(100_000),
    "NFKC": "\uFDFA".repeat(33_333),
  };
  const cases = (prompt: string) =>
    [
      ["openai", CHAT, { model: "gpt-4o", messages: [{ role: "user", content: prompt }] }],
      ["anthropic", MESSAGES, {
        model: "claude-sonnet-4-5",
        messages: [{ role: "user", content: prompt }],
      }],
      ["gemini", gemini("gemini-2.5-flash"), { contents: [{ parts: [{ text: prompt }] }] }],
    ] as const;
  // a few requests first, as a process serving traffic has seen: the JIT warms up once
  for (let i = 0; i < 3; i++) {
    for (const [format, path, body] of cases("a\uFDFA日本 words, and more ".repeat(200))) {
      await bound(body, { format, path });
    }
  }
  for (const [name, prompt] of Object.entries(prompts)) {
    for (const [format, path, body] of cases(prompt)) {
      const bytes = encoder.encode(JSON.stringify(body));
      // the least of three runs: the work is bounded, a busy machine's scheduler is not
      let ms = Infinity;
      for (let run = 0; run < 3; run++) {
        const start = performance.now();
        const b = await boundRequest(bytes, { format, path, outputCap: 0 });
        ms = Math.min(ms, performance.now() - start);
        assert.ok(
          b.input.text >= encoder.encode(prompt).length || format === "openai",
          `${format} ${name}`,
        );
      }
      assert.ok(ms < 20, `${format} ${name}: ${ms.toFixed(1)} ms`);
    }
  }
  // NFKC expands U+FDFA elevenfold: the byte bound of Anthropic and Gemini follows it
  const expanded = await bound({
    model: "claude-sonnet-4-5",
    messages: [{ role: "user", content: "\uFDFA" }],
  }, {
    format: "anthropic",
    path: MESSAGES,
  });
  assert.equal(expanded.input.text, 10 + 5 + 33);
});

Deno.test("boundRequest: a body nested past the stack is unbounded, never an exception", async () => {
  const deep = "[".repeat(200_000) + "]".repeat(200_000);
  const body = `{"model":"claude-sonnet-4-5","messages":[],"metadata":${deep}}`;
  const b = await bound(body, { format: "anthropic", path: MESSAGES, outputCap: 10 });
  assert.equal(b.output.tokens, 10);
  if (b.input.text !== encoder.encode(body).length) {
    // parsed, then too deep to walk
    assert.equal(b.input.unbounded, true);
  }
  const nan = await bound({ model: "gpt-4o", messages: [] }, {
    format: "openai",
    path: CHAT,
    outputCap: NaN,
  });
  assert.equal(nan.output.tokens, Infinity);
});
