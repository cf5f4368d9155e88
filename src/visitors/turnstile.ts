/**
 * Cloudflare Turnstile answers, checked with siteverify: the widget's response and the
 * visitor's address are POSTed with the secret; a `success` answer (from a listed host name,
 * when `hostnames` is set) earns a token. It fails closed: siteverify unreachable, slow (5 s),
 * or answering anything but JSON refuses the visitor. A failed call is retried once, with the
 * same idempotency key, so a response Cloudflare did check is not spent by the retry.
 *
 * @module
 */
import type { TurnstileConfig } from "../config/types.ts";

/** The longest response a widget hands out (Cloudflare documents 2048 characters). */
export const MAX_TURNSTILE_RESPONSE = 2048;
const TIMEOUT_MS = 5_000;

/** What a check found: passed, refused (with siteverify's error codes), or failed to ask. */
export type TurnstileVerdict =
  | { ok: true }
  | { ok: false; refused: string }
  | { ok: false; failed: string };

/** Checks Turnstile responses. */
export type TurnstileCheck = (response: string, remoteIp: string) => Promise<TurnstileVerdict>;

/**
 * Compiles `turnstile:` into a check; `fetcher` reaches siteverify (the global fetch by
 * default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTurnstile } from "./turnstile.ts";
 *
 * // A stand-in for siteverify that passes Cloudflare's dummy token.
 * const siteverify = async (_url: string | URL | Request, init?: RequestInit) => {
 *   const { response } = JSON.parse(String(init?.body));
 *   return Response.json({ success: response === "XXXX.DUMMY.TOKEN.XXXX", "error-codes": [] });
 * };
 * const check = compileTurnstile(
 *   { secret: "1x0000000000000000000000000000000AA", verify_url: "http://127.0.0.1:9/" },
 *   siteverify as typeof fetch,
 * );
 * assert.deepEqual(await check("XXXX.DUMMY.TOKEN.XXXX", "203.0.113.7"), { ok: true });
 * assert.equal((await check("made-up", "203.0.113.7")).ok, false);
 * ```
 */
export function compileTurnstile(
  config: TurnstileConfig,
  fetcher: typeof fetch = fetch,
): TurnstileCheck {
  const hostnames = config.hostnames ? new Set(config.hostnames) : undefined;
  return async (response, remoteIp) => {
    const body = JSON.stringify({
      secret: config.secret,
      response,
      remoteip: remoteIp,
      idempotency_key: crypto.randomUUID(),
    });
    let failed = "";
    for (let attempt = 0; attempt < 2; attempt++) {
      let answer: Record<string, unknown>;
      try {
        const reply = await fetcher(config.verify_url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        if (!reply.ok) {
          await reply.body?.cancel();
          failed = `siteverify answered ${reply.status}`;
          continue;
        }
        answer = await reply.json();
      } catch (error) {
        failed = `siteverify: ${(error as Error).name}`;
        continue;
      }
      const codes = Array.isArray(answer["error-codes"]) ? answer["error-codes"].join(",") : "";
      if (answer.success !== true) {
        if (codes.includes("internal-error")) {
          failed = "siteverify: internal-error";
          continue;
        }
        return { ok: false, refused: codes || "not successful" };
      }
      if (hostnames && !hostnames.has(String(answer.hostname))) {
        return { ok: false, refused: "hostname not listed" };
      }
      return { ok: true };
    }
    return { ok: false, failed };
  };
}
