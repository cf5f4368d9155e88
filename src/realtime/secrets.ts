/**
 * Ephemeral keys for OpenAI's realtime API (`POST /v1/realtime/client_secrets`): what a
 * browser's WebRTC connection authenticates with. Such a key opens sessions straight to
 * OpenAI, so nothing it spends passes the gateway; what the gateway can still hold:
 *
 * - each key minted is a request (it counts in `requests`, as every request does);
 * - its session's model (and its transcription model) must be one the route and the client's
 *   token allow;
 * - it lives at most 10 minutes (`expires_after.seconds` is capped at 600, OpenAI's default);
 * - on a route that counts tokens or dollars, or for a client token whose claims do, it is
 *   refused (403): a budget cannot hold what it spends.
 *
 * What stays open: one key can open several sessions until it expires, a session may outlast
 * it, and a client may change the session's settings once connected (see docs/realtime.md).
 *
 * @module
 */
import type { ClientVariables } from "../auth/auth.ts";
import type { BodyVariables } from "../body/body.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import { type Json, object } from "../budget/tally.ts";
import { concatBytes } from "../bytes.ts";

/** The longest an ephemeral key may live, in seconds. */
export const MAX_SECRET_SECONDS = 600;
/** The largest body read. */
const MAX_BODY = 64 * 1024;

/** What the ephemeral-key stage needs. */
export interface SecretsSettings {
  /** The endpoint's upstream path. */
  readonly path: string;
  /** The route's `body.models`. */
  readonly models?: readonly string[];
  /** Whether the route counts tokens or dollars. */
  readonly budgeted: boolean;
}

async function bytesOf(send: BodyVariables["body"]["send"]): Promise<Uint8Array | undefined> {
  if (send === null) return new Uint8Array();
  if (send instanceof Uint8Array) return send.byteLength > MAX_BODY ? undefined : send;
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of send) {
    size += part.byteLength;
    if (size > MAX_BODY) return undefined;
    parts.push(part);
  }
  return concatBytes(parts);
}

/**
 * Compiles the ephemeral-key stage (it runs after the body stage).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { secretsStage } from "./secrets.ts";
 *
 * const path = "/v1/realtime/client_secrets";
 * const stage = secretsStage({ path, models: ["gpt-realtime"], budgeted: false });
 * const mint = (body: unknown) => {
 *   const request = new Request(`http://gateway/openai${path}`, { method: "POST" });
 *   const x = Object.assign(
 *     new Exchange(request, undefined, "req-1", "", `/openai${path}`, () => {}),
 *     {
 *       upstream: { url: new URL(`https://api.openai.com${path}`), path },
 *       client: { id: "alice", authenticated: true },
 *       body: {
 *         send: new TextEncoder().encode(JSON.stringify(body)),
 *         declared: false,
 *         generates: false,
 *         facts: {},
 *         release() {},
 *       },
 *     },
 *   );
 *   return stage(x, ({ body }) => Promise.resolve(new Response(body.send)));
 * };
 * const sent = await mint({
 *   expires_after: { anchor: "created_at", seconds: 7200 },
 *   session: { type: "realtime", model: "gpt-realtime" },
 * });
 * assert.equal((await sent.json()).expires_after.seconds, 600); // capped at 10 minutes
 *
 * const other = await mint({ session: { type: "realtime", model: "gpt-4o-realtime-preview" } });
 * assert.equal(other.status, 403);
 * ```
 */
export function secretsStage(
  settings: SecretsSettings,
): Stage<UpstreamVariables & ClientVariables & BodyVariables, BodyVariables> {
  const { path, budgeted } = settings;
  const models = settings.models ? new Set(settings.models) : undefined;
  return async (x, next) => {
    if (x.request.method !== "POST" || x.upstream.path !== path) return next({ body: x.body });
    const claims = x.client.grant?.limits;
    if (budgeted || claims?.tokens || claims?.spend) {
      return x.refuse(
        "secret_refused",
        "Ephemeral keys are not minted on a route that counts tokens or dollars: what they " +
          "spend never passes the gateway",
      );
    }
    const bytes = await bytesOf(x.body.send).catch(() => undefined);
    if (bytes === undefined) {
      return x.refuse("body_too_large", `The request body is larger than ${MAX_BODY} bytes`);
    }
    let body: Json | undefined;
    try {
      body = object(JSON.parse(new TextDecoder().decode(bytes.byteLength ? bytes : undefined)));
    } catch {
      body = bytes.byteLength === 0 ? {} : undefined;
    }
    if (!body) return x.refuse("body_refused", "The body must be a JSON object");
    const session = object(body.session);
    const granted = x.client.grant?.models;
    const named: [unknown, string][] = [
      [session?.model, "session.model"],
      [object(object(object(session?.audio)?.input)?.transcription)?.model, "transcription"],
    ];
    if ((models || granted) && session?.model === undefined && session?.type !== "transcription") {
      return x.refuse("body_refused", "The session must name its model (session.model)");
    }
    for (const [model, where] of named) {
      if (model === undefined) continue;
      if (typeof model !== "string") {
        return x.refuse("body_refused", `The ${where} must be a string`);
      }
      if ((models && !models.has(model)) || (granted && !granted.has(model))) {
        const message = `Model ${model} is not allowed on this route`;
        return x.refuse("body_refused", message, undefined, "forbidden", message);
      }
    }
    const expires = object(body.expires_after);
    let send = bytes;
    if (
      expires && (typeof expires.seconds !== "number" || expires.seconds > MAX_SECRET_SECONDS)
    ) {
      expires.seconds = MAX_SECRET_SECONDS;
      send = new TextEncoder().encode(JSON.stringify(body));
    }
    const model = typeof session?.model === "string" ? session.model : undefined;
    return next({
      body: {
        send: send as Uint8Array<ArrayBuffer>,
        declared: false,
        generates: false,
        facts: model === undefined ? {} : { model },
        release() {},
      },
    });
  };
}
