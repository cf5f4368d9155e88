/**
 * Helpers for visitor tests: HTTP from another loopback address (all of 127.0.0.0/8 is this
 * machine, so a client bound to 127.0.1.x comes from another /24 than one on 127.0.0.x; Deno's
 * fetch cannot bind a local address, Node's http can), earning a token the way a program
 * would (solving in this process), and a stand-in for Turnstile's siteverify.
 *
 * @module
 */
import http from "node:http";
import { loadArgon2id } from "../../src/visitors/argon2.ts";
import { solvePuzzle } from "../../src/visitors/puzzle.ts";
import { serveLoopback } from "./serve.ts";

/** An answer read whole. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** Options for {@linkcode send}. */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The local address the request leaves from (127.0.0.1 by default). */
  from?: string;
}

/** Sends one request with Node's http, from `options.from`, and reads the answer whole. */
export function send(url: string, options: SendOptions = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: target.hostname,
      port: Number(target.port),
      path: target.pathname + target.search,
      method: options.method ?? "GET",
      headers: {
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
        ...options.headers,
      },
      localAddress: options.from ?? "127.0.0.1",
      agent: false,
    }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => text += chunk);
      response.on("end", () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
        }
        resolve({ status: response.statusCode ?? 0, headers, text, json });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.setTimeout(30_000, () => request.destroy(new Error(`${url} timed out`)));
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

/** What {@linkcode earnToken} got: the token and the challenge it answered. */
export interface Earned {
  token: string;
  expires: number;
  challenge: string;
  nonce: string;
  difficulty: number;
}

/**
 * Earns a visitor token from `gateway` as a program would: a challenge, solved here, then the
 * token (with `previous` as Bearer when renewing). Throws with the answer on any refusal.
 */
export async function earnToken(
  gateway: string,
  options: { from?: string; origin?: string; previous?: string } = {},
): Promise<Earned> {
  const headers: Record<string, string> = options.origin ? { origin: options.origin } : {};
  const issued = await send(`${gateway}/keyward/visitor/challenge`, {
    from: options.from,
    headers,
  });
  if (issued.status !== 200) throw new Error(`challenge: ${issued.status} ${issued.text}`);
  const { challenge, difficulty, params } = issued.json;
  const nonce = solvePuzzle(await loadArgon2id(), challenge, difficulty, params.m, params.t);
  const answer = await send(`${gateway}/keyward/visitor/token`, {
    method: "POST",
    from: options.from,
    headers: {
      ...headers,
      ...(options.previous ? { authorization: `Bearer ${options.previous}` } : {}),
    },
    body: JSON.stringify({ challenge, nonce }),
  });
  if (answer.status !== 200) throw new Error(`token: ${answer.status} ${answer.text}`);
  return { ...answer.json, challenge, nonce, difficulty };
}

/** The visitor id (`sub`) a token names, read without checking it. */
export function visitorIdOf(token: string): string {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload)).sub;
}

/** A token with its payload changed and its signature kept: a forgery. */
export function forge(token: string, change: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
  const encoded = btoa(JSON.stringify({ ...claims, ...change }))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${header}.${encoded}.${signature}`;
}

/** Cloudflare's dummy secrets (their "Testing" page), and the one token they accept. */
export const TURNSTILE = {
  passes: "1x0000000000000000000000000000000AA",
  fails: "2x0000000000000000000000000000000AA",
  spent: "3x0000000000000000000000000000000AA",
  dummyResponse: "XXXX.DUMMY.TOKEN.XXXX",
};

/** A running siteverify stand-in. */
export interface SiteverifyStandIn {
  url: string;
  /** Every request body received. */
  // deno-lint-ignore no-explicit-any
  received: any[];
  close(): Promise<void>;
}

/**
 * Answers as Cloudflare's siteverify does for its dummy secrets: the passing secret accepts
 * the dummy response (and nothing else), the failing one refuses everything, the spent one
 * says `timeout-or-duplicate`; no secret at all is `missing-input-secret`.
 */
export async function startSiteverify(): Promise<SiteverifyStandIn> {
  // deno-lint-ignore no-explicit-any
  const received: any[] = [];
  const server = await serveLoopback(async (request) => {
    const body = await request.json().catch(() => ({}));
    received.push(body);
    const answer = (success: boolean, codes: string[] = []) =>
      Response.json({
        success,
        "error-codes": codes,
        ...(success ? { hostname: "example.com", challenge_ts: new Date().toISOString() } : {}),
      });
    if (!body.secret) return answer(false, ["missing-input-secret"]);
    if (!body.response) return answer(false, ["missing-input-response"]);
    if (body.secret === TURNSTILE.fails) return answer(false, ["invalid-input-response"]);
    if (body.secret === TURNSTILE.spent) return answer(false, ["timeout-or-duplicate"]);
    if (body.secret !== TURNSTILE.passes) return answer(false, ["invalid-input-secret"]);
    if (body.response !== TURNSTILE.dummyResponse) return answer(false, ["invalid-input-response"]);
    return answer(true);
  });
  return { url: `${server.url}/siteverify`, received, close: server.close };
}
