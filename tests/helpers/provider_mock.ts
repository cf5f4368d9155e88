/**
 * One loopback server that answers as OpenAI, Anthropic, Gemini and fal document their APIs:
 * the same paths, response shapes, stream events and usage fields, and the same 400 for a
 * body field the endpoint does not know (OpenAI's "Unrecognized request argument supplied",
 * Anthropic's "Extra inputs are not permitted", Google's "Unknown name"), so a gateway that
 * adds a field where it does not belong fails the way the provider would fail it. Every
 * request is recorded as received. A stream can be held in lockstep with its reader, which
 * proves it arrives piece by piece without timing anything (see `locks`).
 *
 * @module
 */

/** One request as the mock received it. */
export interface ProviderRequest {
  /** `openai`, `anthropic`, `gemini` or `fal`: the path's first segment. */
  provider: string;
  method: string;
  /** Path (after the provider's prefix) and query. */
  path: string;
  /** Header names lower case. */
  headers: Record<string, string>;
  /** The JSON body, or a multipart form's text fields, or undefined. */
  body?: Record<string, unknown>;
}

/** A running mock. */
export interface ProviderMock {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order. */
  requests: ProviderRequest[];
  /**
   * Streams held in lockstep, by name: `ack` when the client had read the first event before
   * the rest was sent, `timeout` when it had not within 10 seconds (the stream was held back
   * on the way).
   */
  locks: Record<string, "ack" | "timeout">;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const OPENAI_FIELDS: Record<string, string[]> = {
  "/v1/chat/completions": [
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "n",
    "stop",
    "user",
    "tools",
    "tool_choice",
    "response_format",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
    "store",
    "metadata",
    "reasoning_effort",
    "service_tier",
  ],
  "/v1/completions": ["model", "prompt", "max_tokens", "stream", "stream_options", "temperature"],
  "/v1/responses": [
    "model",
    "input",
    "instructions",
    "max_output_tokens",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "text",
    "reasoning",
    "store",
    "metadata",
    "previous_response_id",
    "include",
    "parallel_tool_calls",
    "truncation",
    "user",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "background",
    "conversation",
    "max_tool_calls",
    "top_logprobs",
  ],
  "/v1/embeddings": ["model", "input", "encoding_format", "dimensions", "user"],
  "/v1/moderations": ["model", "input"],
  "/v1/audio/speech": [
    "model",
    "input",
    "voice",
    "instructions",
    "response_format",
    "speed",
    "stream_format",
  ],
  "/v1/images/generations": [
    "model",
    "prompt",
    "n",
    "size",
    "quality",
    "response_format",
    "style",
    "user",
    "background",
    "moderation",
    "output_format",
    "output_compression",
  ],
  "/v1/audio/transcriptions": [
    "file",
    "model",
    "language",
    "prompt",
    "response_format",
    "temperature",
    "stream",
    "timestamp_granularities[]",
    "include[]",
    "chunking_strategy",
  ],
};

const ANTHROPIC_FIELDS: Record<string, string[]> = {
  "/v1/messages": [
    "model",
    "messages",
    "max_tokens",
    "system",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
  ],
  "/v1/messages/count_tokens": ["model", "messages", "system", "tools", "tool_choice", "thinking"],
};

const GEMINI_FIELDS: Record<string, string[]> = {
  generateContent: [
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "generation_config",
    "system_instruction",
  ],
  countTokens: ["contents", "generateContentRequest"],
  embedContent: ["model", "content", "taskType", "title", "outputDimensionality"],
  batchEmbedContents: ["requests"],
  interactions: [
    "model",
    "agent",
    "input",
    "system_instruction",
    "tools",
    "generation_config",
    "response_format",
    "response_mime_type",
    "response_modalities",
    "stream",
    "store",
    "background",
    "previous_interaction_id",
    "agent_config",
  ],
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** An SSE answer written event by event, a few milliseconds apart. */
function sse(events: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for (const event of events) {
          controller.enqueue(encoder.encode(event));
          await sleep(5);
        }
        controller.close();
      } catch {
        // The reader went away mid-stream: nothing is left to send to.
      }
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

function includes(bytes: Uint8Array, part: Uint8Array): boolean {
  outer: for (let i = 0; i + part.length <= bytes.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue outer;
    return true;
  }
  return false;
}

function unknown(body: Json, known: string[]): string | undefined {
  return Object.keys(body).find((key) => !known.includes(key));
}

const WORDS = ["Hel", "lo", " from", " the", " mock"];

function openai(path: string, method: string, body: Json | undefined): Response {
  const route = path.split("?")[0];
  if (method === "GET" && route === "/v1/models") {
    return json({
      object: "list",
      data: [{ id: "gpt-4o-mini", object: "model", created: 1, owned_by: "openai" }],
    });
  }
  const known = OPENAI_FIELDS[route];
  if (!known || method !== "POST") {
    return json({ error: { message: "Not found", type: "invalid_request_error" } }, 404);
  }
  const extra = unknown(body ?? {}, known);
  if (extra) {
    return json({
      error: {
        message: `Unrecognized request argument supplied: ${extra}`,
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    }, 400);
  }
  const model = String(body?.model ?? "");
  const usage = { prompt_tokens: 7, completion_tokens: 13, total_tokens: 20 };
  if (route === "/v1/chat/completions") {
    const base = { id: "chatcmpl-1", created: 1, model };
    if (body?.stream === true) {
      const options = body.stream_options as Json | undefined;
      const events = WORDS.map((word, i) =>
        `data: ${
          JSON.stringify({
            ...base,
            object: "chat.completion.chunk",
            choices: [{
              index: 0,
              delta: i === 0 ? { role: "assistant", content: word } : { content: word },
              finish_reason: null,
            }],
          })
        }\n\n`
      );
      events.push(
        `data: ${
          JSON.stringify({
            ...base,
            object: "chat.completion.chunk",
            choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
          })
        }\n\n`,
      );
      if (options?.include_usage === true) {
        events.push(
          `data: ${
            JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage })
          }\n\n`,
        );
      }
      events.push("data: [DONE]\n\n");
      return sse(events);
    }
    return json({
      ...base,
      object: "chat.completion",
      choices: [{
        index: 0,
        message: { role: "assistant", content: WORDS.join(""), refusal: null },
        finish_reason: "stop",
        logprobs: null,
      }],
      usage,
    });
  }
  if (route === "/v1/responses") return responses(model, body!);
  if (route === "/v1/completions") {
    return json({
      id: "cmpl-1",
      object: "text_completion",
      created: 1,
      model,
      choices: [{ index: 0, text: WORDS.join(""), finish_reason: "stop", logprobs: null }],
      usage,
    });
  }
  if (route === "/v1/embeddings") {
    const vector = [0.25, -0.5, 1];
    const base64 = body?.encoding_format === "base64";
    const encoded = base64
      ? btoa(String.fromCharCode(...new Uint8Array(new Float32Array(vector).buffer)))
      : vector;
    return json({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: encoded }],
      model,
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
  }
  if (route === "/v1/audio/speech") {
    return new Response(new Uint8Array([0xff, 0xf3, 0x44, 0xc4]), {
      headers: { "content-type": "audio/mpeg" },
    });
  }
  if (route === "/v1/images/generations") {
    return json({
      created: 1,
      data: [{ b64_json: btoa("png") }],
      usage: {
        input_tokens: 5,
        output_tokens: 10,
        total_tokens: 15,
        input_tokens_details: { text_tokens: 5, image_tokens: 0 },
      },
    });
  }
  if (route === "/v1/moderations") {
    return json({
      id: "modr-1",
      model,
      results: [{ flagged: false, categories: {}, category_scores: {} }],
    });
  }
  // Transcriptions: gpt-4o-transcribe models report token usage.
  return json({
    text: "hello from the audio",
    usage: { type: "tokens", input_tokens: 6, output_tokens: 5, total_tokens: 11 },
  });
}

/** A Responses API answer: the response object, or its stream of typed events. */
function responses(model: string, body: Json): Response {
  const text = WORDS.join("");
  const item = (status: string, content: Json[]) => ({
    type: "message",
    id: "msg_1",
    status,
    role: "assistant",
    content,
  });
  const part = (text: string) => ({ type: "output_text", text, annotations: [] });
  const response = (status: string, output: Json[], usage: Json | null) => ({
    id: "resp_1",
    object: "response",
    created_at: 1,
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage,
    metadata: {},
  });
  const usage = {
    input_tokens: 7,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 13,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 20,
  };
  const done = response("completed", [item("completed", [part(text)])], usage);
  if (body.stream !== true) return json(done);
  let sequence = 0;
  const event = (type: string, data: Json) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;
  const at = { item_id: "msg_1", output_index: 0, content_index: 0 };
  return sse([
    event("response.created", { response: response("in_progress", [], null) }),
    event("response.in_progress", { response: response("in_progress", [], null) }),
    event("response.output_item.added", { output_index: 0, item: item("in_progress", []) }),
    event("response.content_part.added", { ...at, part: part("") }),
    ...WORDS.map((word) =>
      event("response.output_text.delta", { ...at, delta: word, logprobs: [] })
    ),
    event("response.output_text.done", { ...at, text, logprobs: [] }),
    event("response.content_part.done", { ...at, part: part(text) }),
    event("response.output_item.done", { output_index: 0, item: item("completed", [part(text)]) }),
    event("response.completed", { response: done }),
  ]);
}

function anthropic(path: string, method: string, body: Json | undefined): Response {
  const route = path.split("?")[0];
  if (method === "GET" && route === "/v1/models") {
    return json({
      data: [{
        type: "model",
        id: "claude-sonnet-4-5",
        display_name: "Claude Sonnet 4.5",
        created_at: "2025-09-29T00:00:00Z",
      }],
      has_more: false,
      first_id: "claude-sonnet-4-5",
      last_id: "claude-sonnet-4-5",
    });
  }
  const known = ANTHROPIC_FIELDS[route];
  if (!known || method !== "POST") {
    return json({ type: "error", error: { type: "not_found_error", message: "Not found" } }, 404);
  }
  const extra = unknown(body ?? {}, known);
  if (extra) {
    return json({
      type: "error",
      error: { type: "invalid_request_error", message: `${extra}: Extra inputs are not permitted` },
    }, 400);
  }
  if (route === "/v1/messages/count_tokens") return json({ input_tokens: 9 });
  if (typeof body?.max_tokens !== "number") {
    return json({
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: Field required" },
    }, 400);
  }
  const model = String(body.model);
  const message = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model,
    content: [] as Json[],
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: { input_tokens: 8, output_tokens: 1 },
  };
  if (body.stream === true) {
    const event = (type: string, data: Json) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    return sse([
      event("message_start", { message }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      ...WORDS.map((word) =>
        event("content_block_delta", { index: 0, delta: { type: "text_delta", text: word } })
      ),
      event("content_block_stop", { index: 0 }),
      event("message_delta", {
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: 12 },
      }),
      event("message_stop", {}),
    ]);
  }
  return json({
    ...message,
    content: [{ type: "text", text: WORDS.join("") }],
    stop_reason: "end_turn",
    usage: { input_tokens: 8, output_tokens: 12 },
  });
}

function unknownName(field: string): Response {
  return json({
    error: {
      code: 400,
      message: `Invalid JSON payload received. Unknown name "${field}": Cannot find field.`,
      status: "INVALID_ARGUMENT",
    },
  }, 400);
}

function gemini(path: string, method: string, body: Json | undefined): Response {
  const url = new URL(path, "http://mock");
  const route = url.pathname;
  if (method === "GET" && /^\/v1(beta)?\/models$/.test(route)) {
    return json({
      models: [{
        name: "models/gemini-2.5-flash",
        displayName: "Gemini 2.5 Flash",
        supportedGenerationMethods: ["generateContent", "countTokens"],
      }],
    });
  }
  if (method === "POST" && /^\/v1(beta)?\/interactions$/.test(route)) {
    const extra = unknown(body ?? {}, GEMINI_FIELDS.interactions);
    if (extra) return unknownName(extra);
    return json({
      id: "v1_interaction1",
      status: "completed",
      created: "2026-06-09T12:01:25Z",
      updated: "2026-06-09T12:01:26Z",
      model: body?.model,
      role: "model",
      steps: [{ type: "model_output", content: [{ type: "text", text: WORDS.join("") }] }],
      usage: { total_tokens: 18, total_input_tokens: 8, total_output_tokens: 10 },
    });
  }
  const match = /^\/v1(?:beta)?\/models\/([^/:]+):(\w+)$/.exec(route);
  const action = match?.[2] === "streamGenerateContent" ? "generateContent" : match?.[2];
  const known = action ? GEMINI_FIELDS[action] : undefined;
  if (!match || !known || method !== "POST") {
    return json({ error: { code: 404, message: "Not found", status: "NOT_FOUND" } }, 404);
  }
  const extra = unknown(body ?? {}, known);
  if (extra) return unknownName(extra);
  const usageMetadata = { promptTokenCount: 6, candidatesTokenCount: 10, totalTokenCount: 16 };
  if (action === "countTokens") return json({ totalTokens: 6 });
  if (action === "embedContent") return json({ embedding: { values: [0.25, -0.5, 1] } });
  if (action === "batchEmbedContents") {
    const requests = (body?.requests ?? []) as unknown[];
    return json({ embeddings: requests.map(() => ({ values: [0.25, -0.5, 1] })) });
  }
  const candidate = (text: string, last: boolean) => ({
    content: { parts: [{ text }], role: "model" },
    ...(last ? { finishReason: "STOP" } : {}),
    index: 0,
  });
  if (match[2] === "streamGenerateContent") {
    return sse(WORDS.map((word, i) => {
      const last = i === WORDS.length - 1;
      return `data: ${
        JSON.stringify({
          candidates: [candidate(word, last)],
          ...(last ? { usageMetadata } : {}),
          modelVersion: match[1],
        })
      }\r\n\r\n`;
    }));
  }
  return json({
    candidates: [candidate(WORDS.join(""), true)],
    usageMetadata,
    modelVersion: match[1],
  });
}

function fal(path: string, method: string, body: Json | undefined): Response {
  return json({ images: [{ url: "https://fal.media/x.png" }], path, method, input: body ?? null });
}

/**
 * Starts the mock on 127.0.0.1. Each provider answers under its own prefix (`/openai`,
 * `/anthropic`, `/gemini`, `/fal`): a route's `upstream` is the mock's URL and the prefix.
 */
export async function startProviderMock(): Promise<ProviderMock> {
  const requests: ProviderRequest[] = [];
  const locks: Record<string, "ack" | "timeout"> = {};
  const acks = new Map<string, PromiseWithResolvers<void>>();
  const ackOf = (name: string) => {
    if (!acks.has(name)) acks.set(name, Promise.withResolvers<void>());
    return acks.get(name)!;
  };
  /**
   * Sends a stream up to its first piece of text (each event is one chunk), then the rest
   * only once the client says it read it.
   */
  const lockstep = (response: Response, name: string): Response => {
    let holding = true;
    const first = new TextEncoder().encode(JSON.stringify(WORDS[0]));
    const held = new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        controller.enqueue(chunk);
        if (!holding || !includes(chunk, first)) return;
        holding = false;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), 10_000);
        });
        locks[name] = await Promise.race([ackOf(name).promise.then(() => "ack" as const), timeout]);
        clearTimeout(timer);
      },
    });
    return new Response(response.body!.pipeThrough(held), response);
  };
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => ready.resolve(addr),
  }, async (request) => {
    const url = new URL(request.url);
    const slash = url.pathname.indexOf("/", 1);
    const provider = url.pathname.slice(1, slash === -1 ? undefined : slash);
    const path = (slash === -1 ? "/" : url.pathname.slice(slash)) + url.search;
    const headers = Object.fromEntries(request.headers);
    if (provider === "ack") {
      ackOf(path.slice(1)).resolve();
      return new Response(null, { status: 204 });
    }
    let body: Json | undefined;
    const type = headers["content-type"] ?? "";
    if (type.startsWith("multipart/form-data")) {
      const form = await request.formData();
      body = {};
      for (const [name, value] of form) body[name] = typeof value === "string" ? value : "<file>";
    } else if (request.body) {
      const text = await request.text();
      if (text) body = JSON.parse(text);
    }
    requests.push({ provider, method: request.method, path, headers, body });
    const response = provider === "anthropic"
      ? anthropic(path, request.method, body)
      : provider === "gemini"
      ? gemini(path, request.method, body)
      : provider === "fal"
      ? fal(path, request.method, body)
      : openai(path, request.method, body);
    // A prompt saying `lockstep:NAME` asks for its stream in lockstep (see `locks`).
    const lock = /lockstep:(\w+)/.exec(JSON.stringify(body ?? {}))?.[1];
    const streamed = response.headers.get("content-type") === "text/event-stream";
    return lock && streamed ? lockstep(response, lock) : response;
  });
  const addr = await ready.promise;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    locks,
    close: () => server.shutdown(),
  };
}
