/**
 * A loopback stand-in for the providers' realtime APIs, speaking their event shapes: OpenAI
 * Realtime over WebSocket (GA and beta shapes) and Gemini's Live API (`BidiGenerateContent`,
 * every server message a binary frame holding JSON, as Google sends them), and
 * `POST /v1/realtime/client_secrets`. It records what it received, so tests can assert that
 * no client credential reached it, that the key came in a header and that a frame was
 * clamped.
 *
 * Deterministic: a reply is `echo: <last user text>` cut into `mock_deltas` pieces, and a
 * token is 4 characters, so every usage number can be predicted.
 *
 * Test switches, in the upgrade's query (no real client sends them): `mock_deltas=N`,
 * `mock_close_after=MS` (the upstream closes with 4000 "mock closed"), `mock_leak_key=1` (the
 * key in a delta and, on close, in the reason), `mock_flood=N&mock_flood_bytes=B` (N audio
 * deltas of B bytes on `response.create`), `mock_echo=1` (every frame back as it came).
 *
 * @module
 */

/** What the mock received on one connection. */
export interface MockEntry {
  provider: "openai" | "gemini" | "http";
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  protocols: string[];
  /** Frames (or the body) received, as text. */
  received: string[];
  /** Whether each frame came as binary. */
  binary: boolean[];
  /** The close the mock saw. */
  closed?: { code: number; reason: string };
}

/** A running mock. */
export interface RealtimeMock {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every connection and request, in order. */
  log: MockEntry[];
  /** Resolves when `entry` has closed (or after `ms`). */
  closedWithin(entry: MockEntry, ms: number): Promise<boolean>;
  /** Stops the mock. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let sequence = 0;
const id = (prefix: string) => `${prefix}_${(++sequence).toString(36).padStart(6, "0")}`;

/** One token per 4 characters, at least 1. */
export function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

type Json = Record<string, unknown>;

const GEMINI_PATH =
  /^\/ws\/google\.ai\.generativelanguage\.v1(alpha|beta)?\.GenerativeService\.BidiGenerateContent$/;

/** The models the mock knows. */
export const MOCK_MODELS = [
  "gpt-realtime",
  "gpt-realtime-mini",
  "gpt-4o-realtime-preview",
  "gemini-live-2.5-flash-preview",
  "gemini-2.5-flash-native-audio-preview-12-2025",
];

/** Starts the mock on 127.0.0.1; it accepts `key` only. */
export function startRealtimeMock(key: string): Promise<RealtimeMock> {
  const models = new Set(MOCK_MODELS);
  const log: MockEntry[] = [];
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr.port) },
    async (request) => {
      const url = new URL(request.url);
      const entry: MockEntry = {
        provider: "http",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(request.headers),
        protocols: (request.headers.get("sec-websocket-protocol") ?? "").split(",")
          .map((name) => name.trim()).filter(Boolean),
        received: [],
        binary: [],
      };
      const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
      if (url.searchParams.get("mock_echo") === "1" && upgrade) {
        const { socket, response } = Deno.upgradeWebSocket(request);
        if (entry.protocols.includes("realtime")) {
          response.headers.set("sec-websocket-protocol", "realtime");
        }
        socket.binaryType = "arraybuffer";
        socket.onmessage = (event) => socket.send(event.data);
        return response;
      }
      log.push(entry);
      if (url.pathname === "/v1/realtime/client_secrets" && request.method === "POST") {
        if (request.headers.get("authorization") !== `Bearer ${key}`) {
          return Response.json({ error: { message: "Incorrect API key" } }, { status: 401 });
        }
        const text = await request.text();
        entry.received.push(text);
        const body = JSON.parse(text || "{}");
        const seconds = body?.expires_after?.seconds ?? 600;
        return Response.json({
          value: `ek_${crypto.randomUUID().replaceAll("-", "")}`,
          expires_at: Math.floor(Date.now() / 1000) + seconds,
          session: { type: "realtime", object: "realtime.session", ...body?.session },
        });
      }
      if (url.pathname === "/v1/realtime" && upgrade) {
        entry.provider = "openai";
        const offered = entry.protocols.find((p) => p.startsWith("openai-insecure-api-key."));
        const bearer = request.headers.get("authorization")?.replace(/^Bearer /, "");
        if ((bearer ?? offered?.slice("openai-insecure-api-key.".length)) !== key) {
          return Response.json({
            error: {
              type: "invalid_request_error",
              code: "invalid_api_key",
              message: `Incorrect API key provided: ${bearer}`,
            },
          }, { status: 401 });
        }
        const beta = request.headers.get("openai-beta") === "realtime=v1" ||
          entry.protocols.includes("openai-beta.realtime-v1");
        const { socket, response } = Deno.upgradeWebSocket(request);
        if (entry.protocols.includes("realtime")) {
          response.headers.set("sec-websocket-protocol", "realtime");
        }
        openai(socket, entry, url, beta);
        return response;
      }
      if (GEMINI_PATH.test(url.pathname) && upgrade) {
        entry.provider = "gemini";
        const given = request.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
        if (given !== key) return new Response("API key not valid", { status: 403 });
        const { socket, response } = Deno.upgradeWebSocket(request);
        gemini(socket, entry, url);
        return response;
      }
      return new Response("not found", { status: 404 });
    },
  );

  function common(socket: WebSocket, entry: MockEntry, url: URL) {
    socket.binaryType = "arraybuffer";
    const after = Number(url.searchParams.get("mock_close_after") ?? 0);
    if (after > 0) {
      setTimeout(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        const leak = url.searchParams.get("mock_leak_key") === "1";
        socket.close(4000, leak ? `mock closed ${key}` : "mock closed");
      }, after);
    }
    socket.addEventListener("close", (event) => {
      entry.closed = { code: event.code, reason: event.reason };
    });
  }

  function record(entry: MockEntry, data: string | ArrayBuffer): string {
    const text = typeof data === "string" ? data : decoder.decode(data);
    entry.received.push(text.length > 4000 ? text.slice(0, 4000) + "…" : text);
    entry.binary.push(typeof data !== "string");
    return text;
  }

  function openai(socket: WebSocket, entry: MockEntry, url: URL, beta: boolean) {
    common(socket, entry, url);
    const model = url.searchParams.get("model") ?? "";
    const deltas = Number(url.searchParams.get("mock_deltas") ?? 3);
    const leak = url.searchParams.get("mock_leak_key") === "1";
    const flood = Number(url.searchParams.get("mock_flood") ?? 0);
    const floodBytes = Number(url.searchParams.get("mock_flood_bytes") ?? 65536);
    const maxField = beta ? "max_response_output_tokens" : "max_output_tokens";
    const session: Json = beta
      ? { object: "realtime.session", id: id("sess"), model, max_response_output_tokens: "inf" }
      : {
        type: "realtime",
        object: "realtime.session",
        id: id("sess"),
        model,
        output_modalities: ["audio"],
        max_output_tokens: "inf",
      };
    const conversation: string[] = [];
    const send = (event: Json) =>
      socket.send(JSON.stringify({ type: event.type, event_id: id("event"), ...event }));
    const error = (message: string, code: string, eventId?: unknown, param?: string) =>
      send({
        type: "error",
        error: {
          type: "invalid_request_error",
          code,
          message,
          param: param ?? null,
          event_id: eventId ?? null,
        },
      });
    socket.onopen = () => {
      if (!models.has(model)) {
        error(`Model "${model}" is not supported`, "model_not_found");
        socket.close(1008, "model_not_found");
        return;
      }
      send({ type: "session.created", session });
    };
    socket.onmessage = (message) => {
      const text = record(entry, message.data);
      let event: Json;
      try {
        event = JSON.parse(text);
      } catch {
        return error("Invalid JSON", "invalid_json");
      }
      switch (event.type) {
        case "session.update": {
          const update = (event.session ?? {}) as Json;
          if (update.model !== undefined && update.model !== session.model) {
            return error(
              "Cannot change the model",
              "invalid_value",
              event.event_id,
              "session.model",
            );
          }
          Object.assign(session, update);
          return send({ type: "session.updated", session });
        }
        case "conversation.item.create": {
          const item = (event.item ?? {}) as Json;
          const content = (item.content ?? []) as Json[];
          conversation.push(content.map((part) => String(part.text ?? "")).join(""));
          const full = { id: item.id ?? id("item"), object: "realtime.item", ...item };
          if (beta) return send({ type: "conversation.item.created", item: full });
          send({ type: "conversation.item.added", item: full });
          return send({ type: "conversation.item.done", item: full });
        }
        case "input_audio_buffer.append":
          return;
        case "response.create": {
          const options = (event.response ?? {}) as Json;
          const limit = options[maxField] ?? session[maxField] ?? "inf";
          let reply = "echo: " + (conversation.at(-1) ?? "");
          if (leak) reply += ` (key ${key})`;
          let output = tokensOf(reply);
          let status = "completed";
          if (typeof limit === "number" && output > limit) {
            reply = reply.slice(0, limit * 4);
            output = limit;
            status = "incomplete";
          }
          const responseId = id("resp");
          const base = {
            object: "realtime.response",
            id: responseId,
            [maxField]: limit,
          };
          send({ type: "response.created", response: { ...base, status: "in_progress" } });
          const deltaType = beta ? "response.text.delta" : "response.output_text.delta";
          const step = Math.max(1, Math.ceil(reply.length / deltas));
          for (let i = 0; i < reply.length; i += step) {
            send({ type: deltaType, response_id: responseId, delta: reply.slice(i, i + step) });
          }
          for (let i = 0; i < flood; i++) {
            send({
              type: beta ? "response.audio.delta" : "response.output_audio.delta",
              response_id: responseId,
              delta: "A".repeat(floodBytes),
            });
          }
          const input = tokensOf(conversation.join(" ")) + 4;
          conversation.push(reply);
          return send({
            type: "response.done",
            response: {
              ...base,
              status,
              output: [{ type: "message", role: "assistant", content: [{ text: reply }] }],
              usage: {
                total_tokens: input + output,
                input_tokens: input,
                output_tokens: output,
                input_token_details: { text_tokens: input, audio_tokens: 0, cached_tokens: 0 },
                output_token_details: { text_tokens: output, audio_tokens: 0 },
              },
            },
          });
        }
        default:
          return error(`Invalid value: '${event.type}'`, "invalid_value", event.event_id, "type");
      }
    };
  }

  function gemini(socket: WebSocket, entry: MockEntry, url: URL) {
    common(socket, entry, url);
    const deltas = Number(url.searchParams.get("mock_deltas") ?? 3);
    const leak = url.searchParams.get("mock_leak_key") === "1";
    let setup: Json | undefined;
    const history: string[] = [];
    // Google sends every server message as a binary frame holding JSON.
    const send = (message: Json) => socket.send(encoder.encode(JSON.stringify(message)));
    socket.onmessage = (event) => {
      const text = record(entry, event.data);
      let message: Json;
      try {
        message = JSON.parse(text);
      } catch {
        return socket.close(1007, "Invalid JSON payload received.");
      }
      if (!setup) {
        const first = message.setup as Json | undefined;
        if (!first) return socket.close(1007, "Request contains an invalid argument.");
        const model = String(first.model ?? "");
        if (!model.startsWith("models/") || !models.has(model.slice(7))) {
          return socket.close(1008, `${model} is not found for API version v1beta`);
        }
        setup = first;
        return send({ setupComplete: {} });
      }
      if (message.setup) return socket.close(1007, "Request contains an invalid argument.");
      const content = message.clientContent as Json | undefined;
      if (content) {
        for (const turn of (content.turns ?? []) as Json[]) {
          history.push(((turn.parts ?? []) as Json[]).map((p) => String(p.text ?? "")).join(""));
        }
        if (content.turnComplete === false) return;
        const max = (setup.generationConfig as Json | undefined)?.maxOutputTokens;
        let reply = "echo: " + (history.at(-1) ?? "");
        if (leak) reply += ` (key ${key})`;
        let output = tokensOf(reply);
        if (typeof max === "number" && output > max) {
          reply = reply.slice(0, max * 4);
          output = max;
        }
        const step = Math.max(1, Math.ceil(reply.length / deltas));
        for (let i = 0; i < reply.length; i += step) {
          send({ serverContent: { modelTurn: { parts: [{ text: reply.slice(i, i + step) }] } } });
        }
        send({ serverContent: { generationComplete: true } });
        const prompt = tokensOf(history.join(" "));
        history.push(reply);
        return send({
          serverContent: { turnComplete: true },
          usageMetadata: {
            promptTokenCount: prompt,
            responseTokenCount: output,
            totalTokenCount: prompt + output,
          },
        });
      }
      if (message.realtimeInput || message.toolResponse) return;
      socket.close(1007, "Request contains an invalid argument.");
    };
  }

  return ready.promise.then((port) => ({
    url: `http://127.0.0.1:${port}`,
    log,
    async closedWithin(entry, ms) {
      const until = performance.now() + ms;
      while (!entry.closed && performance.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return entry.closed !== undefined;
    },
    close: () => server.shutdown(),
  }));
}
