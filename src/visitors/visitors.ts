/**
 * Visitors without accounts (`server.visitors`): the endpoints that hand out visitor tokens,
 * the browser module that earns them, and the check of `auth: visitor` routes.
 *
 * - `GET /keyward/visitor/challenge` counts a challenge against the address prefix's
 *   `per_address` (429 with `Retry-After` once it is spent, before anyone solves anything),
 *   prices it (`difficulty.ts`) and answers `{challenge, difficulty, algorithm, expires,
 *   params}`.
 * - `POST /keyward/visitor/token` with `{challenge, nonce}` (and/or `{turnstile}`) checks the
 *   challenge (signature, expiry, prefix, Origin: no store involved), marks it answered in the
 *   store before hashing (so each challenge costs at most one hash, however often it is
 *   sent), hashes once, and answers `{token, expires}`. A request bearing a visitor token that
 *   has not expired, from the same prefix and Origin, keeps that token's visitor id.
 * - `GET /keyward/visitor.js`: the browser module, built once from `assets.ts`.
 *
 * Counters and the once-only records live in the configured store, so they hold across every
 * instance sharing it.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import type { Hono } from "hono";
import type { Client, VisitorAuth } from "../auth/auth.ts";
import { clientAddress, type ConnInfo } from "../auth/client_ip.ts";
import { presentedToken } from "../auth/token.ts";
import type { VisitorsConfig } from "../config/types.ts";
import type { Exchange } from "../exchange.ts";
import { retryAfter, storeDown } from "../limits/limits.ts";
import type { LimitStore } from "../store/store.ts";
import { type Argon2id, loadArgon2id } from "./argon2.ts";
import { checkChallenge, issueChallenge, MAX_CHALLENGE } from "./challenge.ts";
import { Difficulty } from "./difficulty.ts";
import { visitorKeys } from "./keys.ts";
import { addressPrefix, widePrefix } from "./prefix.ts";
import { ATTEMPTS_PER_SECOND, NONCE, solves } from "./puzzle.ts";
import { compileTurnstile, MAX_TURNSTILE_RESPONSE, type TurnstileCheck } from "./turnstile.ts";
import { newVisitorId, VisitorTokens } from "./visitor_token.ts";

/** Where the endpoints are. */
export const VISITOR_PATHS = {
  challenge: "/keyward/visitor/challenge",
  token: "/keyward/visitor/token",
  script: "/keyward/visitor.js",
} as const;

/** The largest token request body read, in bytes. */
const MAX_BODY = 4096;
/** An IPv6 /48 may earn this many times what one /64 may. */
const WIDE_FACTOR = 8;
/** Marks a refusal visitor.js answers by earning a new token. */
const RENEW = { "x-keyward-visitor": "renew" };
const NO_STORE = { "cache-control": "no-store" };

/** What visitors need from the gateway. */
export interface VisitorsOptions {
  /** The store counters and once-only records live in. */
  store: LimitStore;
  /** Whether forwarding headers name the client's address (`server.trust_forwarded`). */
  trustForwarded: boolean;
  /** argon2id compiled ahead of time, for runtimes that compile no WebAssembly from bytes. */
  argon2Wasm?: WebAssembly.Module;
  /** Reaches Turnstile's siteverify (the global fetch by default). */
  fetch?: typeof fetch;
}

/** `server.visitors`, running. */
export interface Visitors extends VisitorAuth {
  /** The paths of its endpoints. */
  readonly paths: readonly string[];
  /** `GET /keyward/visitor/challenge`. */
  challenge(x: Exchange): Promise<Response>;
  /** `POST /keyward/visitor/token`. */
  token(x: Exchange): Promise<Response>;
  /** `GET /keyward/visitor.js`. */
  script(x: Exchange): Promise<Response>;
  /** Adds the endpoints to `app` (whose variable `exchange` holds each request's exchange). */
  mount(app: Hono): void;
}

/**
 * Starts `server.visitors`: loads and warms argon2id when the puzzle is on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { MemoryStore } from "../store/memory.ts";
 * import { loadArgon2id } from "./argon2.ts";
 * import { solvePuzzle } from "./puzzle.ts";
 * import { createVisitors } from "./visitors.ts";
 *
 * const visitors = await createVisitors({
 *   secret: "a-visitor-secret-of-32-bytes-or-more",
 *   proof_of_work: { seconds: 0.002 }, // 3 attempts: quick for an example
 *   earn_with: "either",
 *   ttl: 3_600_000,
 *   per_address: { limit: 20, windowMs: 3_600_000 },
 * }, { store: new MemoryStore(), trustForwarded: false });
 *
 * const info = { remoteAddr: { hostname: "203.0.113.7" } };
 * const exchange = (request: Request) =>
 *   new Exchange(request, info, "req-1", "", new URL(request.url).pathname, () => {});
 * const issued = await (await visitors.challenge(
 *   exchange(new Request("http://gateway/keyward/visitor/challenge")),
 * )).json();
 * const nonce = solvePuzzle(await loadArgon2id(), issued.challenge, issued.difficulty, 1024, 1);
 * const answer = await visitors.token(exchange(
 *   new Request("http://gateway/keyward/visitor/token", {
 *     method: "POST",
 *     body: JSON.stringify({ challenge: issued.challenge, nonce }),
 *   }),
 * ));
 * const { token } = await answer.json();
 * const client = await visitors.authenticate(exchange(new Request("http://gateway/openai")), token);
 * assert.ok(!(client instanceof Response) && client.id.startsWith("v_"));
 * ```
 */
export async function createVisitors(
  config: VisitorsConfig,
  options: VisitorsOptions,
): Promise<Visitors> {
  const { store, trustForwarded } = options;
  const keys = visitorKeys(config.secret);
  const tokens = new VisitorTokens(keys);
  const pow = config.proof_of_work;
  const argon2: Argon2id | undefined = pow ? await loadArgon2id(options.argon2Wasm) : undefined;
  const difficulty = pow
    ? new Difficulty(store, Math.max(1, Math.round(pow.seconds * ATTEMPTS_PER_SECOND)))
    : undefined;
  const turnstile: TurnstileCheck | undefined = config.turnstile
    ? compileTurnstile(config.turnstile, options.fetch)
    : undefined;
  const both = config.earn_with === "both" && pow !== undefined && turnstile !== undefined;
  const { limit, windowMs } = config.per_address;

  const address = (x: Exchange) =>
    clientAddress(x.request, x.env as ConnInfo | undefined, trustForwarded);
  const originOf = (x: Exchange) => x.request.headers.get("origin") ?? undefined;

  /** Counts one token against the address's prefixes: a refusal once they are spent. */
  const countAddress = async (x: Exchange, client: string): Promise<Response | undefined> => {
    const counts = [{ key: addressPrefix(client), limit }];
    const wide = widePrefix(client);
    if (wide) counts.push({ key: wide, limit: limit * WIDE_FACTOR });
    for (const { key, limit } of counts) {
      const reserved = await store.reserve(`visitors:earned:${key}`, 1, limit, windowMs);
      if (!reserved.ok) {
        return x.refuse(
          "visitor_limit",
          `This network (${key}) has earned its ${limit} visitor tokens for now`,
          retryAfter(reserved.resetMs),
          undefined,
          key,
        );
      }
    }
    return undefined;
  };

  let script: Promise<{ text: string; etag: string }> | undefined;
  const buildScript = async () => {
    const { ARGON2_WASM_BASE64, VISITOR_MODULE, VISITOR_WORKER } = await import("./assets.ts");
    // The slots as the code holds them (their names also appear in comments), filled by a
    // function so that no `$` in what fills them is read as a replacement pattern.
    const worker = VISITOR_WORKER.replace('"__ARGON2_WASM__"', () => `"${ARGON2_WASM_BASE64}"`);
    const text = VISITOR_MODULE.replace(
      "= __KEYWARD_WORKER__;",
      () => `= ${JSON.stringify(worker)};`,
    );
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    const hex = Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0"));
    return { text, etag: `"${hex.join("")}"` };
  };

  const visitors: Visitors = {
    paths: Object.values(VISITOR_PATHS),

    async challenge(x) {
      if (!difficulty) {
        return x.refuse(
          "not_found",
          "This gateway takes Turnstile answers, not proof of work: POST {turnstile} to " +
            VISITOR_PATHS.token,
        );
      }
      const client = address(x);
      const prefix = addressPrefix(client);
      let limited: Response | undefined;
      let price: number;
      try {
        [limited, price] = await Promise.all([
          countAddress(x, client),
          difficulty.issue(prefix),
        ]);
      } catch (error) {
        return storeDown(x, error);
      }
      if (limited) return limited;
      const issued = await issueChallenge(keys, prefix, originOf(x), price, both);
      return Response.json(issued, { headers: NO_STORE });
    },

    async token(x) {
      const body = await readSmallJson(x);
      if (body instanceof Response) return body;
      const { challenge, nonce, turnstile: answer } = body;
      const solving = challenge !== undefined || nonce !== undefined;
      if (!solving && answer === undefined) {
        return x.refuse(
          "challenge_refused",
          pow
            ? 'Send {"challenge", "nonce"}: a challenge from ' + VISITOR_PATHS.challenge +
              " and its solution"
            : 'Send {"turnstile": "<the widget\'s response>"}',
        );
      }
      if (solving && !argon2) {
        return x.refuse("challenge_refused", "This gateway takes Turnstile answers only");
      }
      if (answer !== undefined && !turnstile) {
        return x.refuse("challenge_refused", "This gateway takes no Turnstile answers");
      }
      if (both && !(solving && answer !== undefined)) {
        return x.refuse(
          "challenge_refused",
          "Send a solved challenge and a Turnstile answer together",
        );
      }
      const client = address(x);
      const prefix = addressPrefix(client);
      const origin = originOf(x);
      try {
        if (solving) {
          if (typeof challenge !== "string" || challenge.length > MAX_CHALLENGE) {
            return x.refuse("challenge_refused", "challenge must be the text the gateway issued");
          }
          const digits = typeof nonce === "number" ? String(nonce) : nonce;
          if (typeof digits !== "string" || !NONCE.test(digits)) {
            return x.refuse("challenge_refused", "nonce must be 1 to 16 decimal digits");
          }
          const checked = await checkChallenge(keys, challenge, prefix, origin);
          if ("refused" in checked) {
            const why = checked.refused;
            if (why === "prefix" || why === "origin") {
              return x.refuse(
                "challenge_elsewhere",
                why === "prefix"
                  ? "The challenge was issued to another network"
                  : "The challenge was issued to another origin",
                undefined,
                undefined,
                why,
              );
            }
            return x.refuse(
              "challenge_refused",
              why === "expired"
                ? "The challenge has expired: fetch a new one"
                : "The challenge was not issued by this gateway",
              undefined,
              undefined,
              why,
            );
          }
          const { jti, exp, d, m, t } = checked.claims;
          // Marked answered before the hash: a challenge costs at most one, right or wrong.
          const first = await store.claim(
            `visitors:challenge:${jti}`,
            exp * 1000 - Date.now() + 10_000,
          );
          if (!first) {
            return x.refuse(
              "challenge_refused",
              "The challenge was answered before: fetch a new one",
              undefined,
              undefined,
              "used",
            );
          }
          if (!solves(argon2!, challenge, digits, d, m, t)) {
            return x.refuse(
              "challenge_refused",
              "The nonce does not solve the challenge",
              undefined,
              undefined,
              "unsolved",
            );
          }
        } else {
          // A Turnstile answer alone: per_address is counted here, before siteverify.
          const limited = await countAddress(x, client);
          if (limited) return limited;
        }
      } catch (error) {
        return storeDown(x, error);
      }
      if (answer !== undefined) {
        if (typeof answer !== "string" || !answer || answer.length > MAX_TURNSTILE_RESPONSE) {
          return x.refuse("challenge_refused", "turnstile must be the widget's response");
        }
        const verdict = await turnstile!(answer, client);
        if ("refused" in verdict) {
          return x.refuse(
            "turnstile_refused",
            "The Turnstile answer was refused",
            undefined,
            undefined,
            verdict.refused,
          );
        }
        if ("failed" in verdict) {
          return x.refuse(
            "turnstile_failed",
            "The Turnstile answer could not be checked",
            undefined,
            undefined,
            verdict.failed,
          );
        }
      }
      // Renewing: a token that has not expired, from this prefix and origin, keeps its id.
      let sub: string | undefined;
      const previous = presentedToken(x.request.headers);
      if (previous) {
        const held = await tokens.check(previous);
        if ("visitor" in held && held.visitor.pfx === prefix && held.visitor.org === origin) {
          sub = held.visitor.sub;
        }
      }
      const visitor = sub ?? newVisitorId();
      const minted = await tokens.mint(visitor, prefix, origin, config.ttl);
      // The log line names the visitor who earned it (never the token).
      Object.assign(x, { client: { id: visitor, authenticated: false } satisfies Client });
      return Response.json(minted, { headers: NO_STORE });
    },

    async script(x) {
      const { text, etag } = await (script ??= buildScript());
      const headers = {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "no-cache",
        etag,
      };
      if (x.request.headers.get("if-none-match") === etag) {
        return new Response(null, { status: 304, headers });
      }
      return new Response(text, { headers });
    },

    async authenticate(x, token): Promise<Client | Response> {
      const checked = await tokens.check(token);
      if ("refused" in checked) {
        return x.refuse(
          "visitor_refused",
          checked.refused === "expired"
            ? "The visitor token has expired: earn a new one"
            : "The visitor token is not valid",
          { "www-authenticate": "Bearer", ...RENEW },
          undefined,
          checked.refused,
        );
      }
      const { visitor } = checked;
      if (visitor.pfx !== addressPrefix(address(x))) {
        return x.refuse(
          "visitor_elsewhere",
          "The visitor token was earned on another network: earn a new one",
          RENEW,
          undefined,
          "prefix",
        );
      }
      // A browser names its page on every cross-origin request and every POST; a request
      // without an Origin is held to the prefix alone (a program can send any Origin it likes).
      const origin = x.request.headers.get("origin");
      if (origin !== null && origin !== visitor.org) {
        return x.refuse(
          "visitor_elsewhere",
          "The visitor token was earned by a page on another origin",
          RENEW,
          undefined,
          "origin",
        );
      }
      return { id: visitor.sub, authenticated: false };
    },

    mount(app) {
      const exchange = (c: { get(name: "exchange"): Exchange }) => c.get("exchange");
      // deno-lint-ignore no-explicit-any
      const typed = app as Hono<any>;
      typed.get(VISITOR_PATHS.challenge, (c) => visitors.challenge(exchange(c)));
      typed.post(VISITOR_PATHS.token, (c) => visitors.token(exchange(c)));
      typed.get(VISITOR_PATHS.script, (c) => visitors.script(exchange(c)));
    },
  };
  return visitors;
}

/** A token request's JSON object, read up to {@linkcode MAX_BODY} bytes; else the refusal. */
async function readSmallJson(x: Exchange): Promise<Record<string, unknown> | Response> {
  const declared = Number(x.request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY) {
    return x.refuse("body_too_large", `A token request is at most ${MAX_BODY} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = x.request.body?.getReader();
  try {
    while (reader) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_BODY) {
        await reader.cancel().catch(() => {});
        return x.refuse("body_too_large", `A token request is at most ${MAX_BODY} bytes`);
      }
      chunks.push(value);
    }
  } catch {
    return x.refuse("body_unreadable", "The request body could not be read");
  }
  const bytes = concatBytes(chunks);
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes));
    if (body && typeof body === "object" && !Array.isArray(body)) return body;
  } catch {
    // answered below
  }
  return x.refuse("challenge_refused", "Send a JSON object");
}
