// keyward visitor.js: tokens for visitors without accounts, earned by proof of work (and/or
// Cloudflare Turnstile) and renewed before they expire. Served by the gateway itself at
// GET /keyward/visitor.js; no CDN.
//
//   import { visitorFetch, visitorToken } from "https://gateway.example/keyward/visitor.js";
//   const openai = new OpenAI({
//     baseURL: "https://gateway.example/openai/v1",
//     apiKey: "visitor", // replaced by visitorFetch on every request
//     fetch: visitorFetch,
//     dangerouslyAllowBrowser: true,
//   });
//
// The puzzle runs in Web Workers started from a Blob URL; a page's Content-Security-Policy
// must allow `worker-src blob:` and `script-src 'wasm-unsafe-eval'`.

const WORKER = __KEYWARD_WORKER__;
/** Where this module was imported from: the gateway, unless `options.gateway` says otherwise. */
const HOME = new URL("..", import.meta.url).href;
/** Seconds before expiry at which a token is no longer handed out. */
const MARGIN_S = 30;

/** Tokens by gateway: `{ token, expires, renewAt, pending }`. */
const tokens = new Map();
let lastHome = HOME;

function homeOf(gateway) {
  if (!gateway) return HOME;
  const url = new URL(gateway, globalThis.location?.href);
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

/** A refusal from the gateway: `status`, and `retryAfter` in seconds for a 429. */
export class VisitorError extends Error {
  constructor(message, status, retryAfter) {
    super(message);
    this.name = "VisitorError";
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

async function refusal(what, response) {
  let message = `${response.status}`;
  try {
    message = (await response.json()).error?.message ?? message;
  } catch {
    // not JSON: the status says it
  }
  const retry = Number(response.headers.get("retry-after")) || undefined;
  return new VisitorError(`${what}: ${message}`, response.status, retry);
}

/**
 * Solves a challenge as `GET /keyward/visitor/challenge` answered it, in
 * `options.workers` Web Workers (the device's cores, at most 4); resolves to the nonce.
 * `options.onProgress(attempts, difficulty)` hears how far it got.
 */
export function solveChallenge(challenge, options = {}) {
  const cores = globalThis.navigator?.hardwareConcurrency || 2;
  const count = Math.max(1, Math.min(options.workers ?? 4, cores));
  const url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
  return new Promise((resolve, reject) => {
    const workers = [];
    let attempts = 0;
    let done = false;
    const finish = (settle, value) => {
      if (done) return;
      done = true;
      for (const worker of workers) worker.terminate();
      URL.revokeObjectURL(url);
      settle(value);
    };
    const blocked = (detail) =>
      new Error(
        `visitor.js cannot start its Web Worker (${detail}): the page's Content-Security-Policy ` +
          "must allow worker-src blob: and script-src 'wasm-unsafe-eval'",
      );
    const params = challenge.params ?? { m: 1024, t: 1 };
    for (let i = 0; i < count; i++) {
      let worker;
      try {
        worker = new Worker(url);
      } catch (error) {
        finish(reject, blocked(error.message));
        return;
      }
      workers.push(worker);
      worker.onmessage = ({ data }) => {
        if (data.nonce !== undefined) finish(resolve, data.nonce);
        else if (data.error !== undefined) finish(reject, new Error(data.error));
        else {
          attempts += data.progress;
          options.onProgress?.(attempts, challenge.difficulty);
        }
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        finish(reject, blocked(event.message || "failed"));
      };
      worker.postMessage({
        salt: challenge.challenge,
        m: params.m,
        t: params.t,
        threshold: Math.floor(2 ** 48 / challenge.difficulty),
        start: i,
        step: count,
      });
    }
  });
}

/** Earns a token: a challenge solved (or a Turnstile answer, or both), then the token. */
async function earn(home, previous, options) {
  const fetchOptions = { credentials: "omit", cache: "no-store" };
  // A challenge may expire while a slow device solves it: fetch another, a few times.
  for (let attempt = 0;; attempt++) {
    const body = {};
    let challenge;
    if (!options.turnstile || options.proofOfWork) {
      const response = await fetch(new URL("keyward/visitor/challenge", home), fetchOptions);
      if (!response.ok) throw await refusal("visitor challenge", response);
      challenge = await response.json();
      if (challenge.turnstile === "required" && !options.turnstile) {
        throw new VisitorError(
          "visitor challenge: this gateway also needs a Turnstile answer: pass options.turnstile",
          400,
        );
      }
      body.challenge = challenge.challenge;
      body.nonce = await solveChallenge(challenge, options);
    }
    if (options.turnstile) body.turnstile = await options.turnstile();
    const headers = { "content-type": "application/json" };
    // The token being renewed: its visitor id is kept while it has not expired.
    if (previous) headers.authorization = `Bearer ${previous}`;
    const response = await fetch(new URL("keyward/visitor/token", home), {
      ...fetchOptions,
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    if (response.ok) return await response.json();
    if (response.status === 400 && challenge && attempt < 2) {
      await response.body?.cancel();
      continue;
    }
    throw await refusal("visitor token", response);
  }
}

function renew(home, entry, options) {
  const now = Date.now() / 1000;
  const previous = entry.token && now < entry.expires ? entry.token : undefined;
  entry.pending = earn(home, previous, options).then(({ token, expires }) => {
    const at = Date.now() / 1000;
    Object.assign(entry, { token, expires, renewAt: at + 0.8 * (expires - at) });
    return token;
  }).finally(() => {
    entry.pending = undefined;
  });
  return entry.pending;
}

/**
 * A promise of a visitor token for the gateway (`options.gateway`, else where this module
 * came from): cached, and renewed in the background once 80 % of its life has passed, with the
 * same visitor id. Options: `gateway`, `workers`, `onProgress(attempts, difficulty)`,
 * `turnstile` (a function giving a Turnstile widget's response), `proofOfWork` (solve a
 * challenge as well as `turnstile`).
 */
export function visitorToken(options = {}) {
  const home = homeOf(options.gateway);
  if (options.gateway) lastHome = home;
  let entry = tokens.get(home);
  if (!entry) tokens.set(home, entry = { options });
  if (options.turnstile || options.proofOfWork) entry.options = options;
  const now = Date.now() / 1000;
  if (entry.token && now < entry.expires - MARGIN_S) {
    if (now >= entry.renewAt && !entry.pending) {
      renew(home, entry, entry.options).catch(() => {});
    }
    return Promise.resolve(entry.token);
  }
  return entry.pending ?? renew(home, entry, entry.options);
}

/** Forgets the token for a gateway: the next call earns a new one. */
export function forgetVisitorToken(options = {}) {
  const entry = tokens.get(homeOf(options.gateway));
  if (entry) entry.token = undefined;
}

/**
 * `fetch` with the visitor token as `Authorization: Bearer`, for an SDK's `fetch` option. A
 * token the gateway refuses as expired, or as earned on another network (a phone that left
 * its Wi-Fi), is earned again and the request sent once more.
 */
export async function visitorFetch(input, init) {
  const request = new Request(input, init);
  const again = request.clone();
  const gateway = lastHome;
  const send = async (original) => {
    const headers = new Headers(original.headers);
    headers.set("authorization", `Bearer ${await visitorToken({ gateway })}`);
    return fetch(new Request(original, { headers }));
  };
  const first = await send(request);
  if (!first.headers.has("x-keyward-visitor")) {
    again.body?.cancel().catch(() => {});
    return first;
  }
  await first.body?.cancel();
  forgetVisitorToken({ gateway });
  return send(again);
}
