/**
 * Checks that span sections of routes.yaml, run after the schema: settings that are each
 * valid alone but cannot work together. Each is reported at its line.
 *
 * @module
 */
import { DEFAULT_BODY_MEMORY } from "./defaults.ts";
import { isLoopback } from "./loopback.ts";
import { PRESETS } from "./presets/mod.ts";
import type { AuthConfig, Config } from "./types.ts";
import { platform, type RuntimeName } from "../platform/mod.ts";

/** One problem, at its path in the config. */
export interface Incoherence {
  /** Path of the setting, e.g. `["routes", 0, "auth"]`. */
  path: (string | number)[];
  /** What is wrong. */
  message: string;
}

function checkAuth(auth: AuthConfig | undefined, at: (string | number)[], config: Config) {
  const found: Incoherence[] = [];
  if (auth === "token" && !config.clients?.length) {
    found.push({ path: at, message: "auth: token needs clients (each with a token)" });
  }
  if (auth === "visitor" && !config.server?.visitors) {
    found.push({
      path: at,
      message: "auth: visitor needs server.visitors (a secret, and proof_of_work or turnstile)",
    });
  }
  if (typeof auth === "object" && "jwt" in auth && auth.jwt.jwks) {
    const url = new URL(auth.jwt.jwks);
    if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
      found.push({
        path: [...at, "jwt", "jwks"],
        message: "A JWKS URL must use https (http only for loopback hosts)",
      });
    }
  }
  return found;
}

/**
 * Lists every cross-section problem of a schema-valid config, and the settings `runtime`
 * (the one this process runs on, by default) cannot honour.
 */
export function incoherent(config: Config, runtime: RuntimeName = platform.name): Incoherence[] {
  const found: Incoherence[] = [];
  if (config.store?.kind === "kv" && runtime !== "deno") {
    found.push({
      path: ["store", "kind"],
      message: `store kind kv needs Deno (this is ${runtime}): use memory or redis here`,
    });
  }
  found.push(...checkAuth(config.server?.auth, ["server", "auth"], config));
  const ids = new Map<string, number>();
  const tokens = new Map<string, number>();
  config.clients?.forEach((client, i) => {
    if (ids.has(client.id)) {
      found.push({
        path: ["clients", i, "id"],
        message: `Client id "${client.id}" is already used by clients[${ids.get(client.id)}]`,
      });
    } else ids.set(client.id, i);
    const token = client.token ?? client.token_sha256!.toLowerCase();
    if (tokens.has(token)) {
      found.push({
        path: ["clients", i],
        message: `Client ${client.id} has the same token as clients[${tokens.get(token)}]`,
      });
    } else tokens.set(token, i);
    if (client.limits?.timeout !== undefined) {
      found.push({
        path: ["clients", i, "limits", "timeout"],
        message: "timeout belongs to a route, not a client",
      });
    }
  });
  const memory = config.server?.body_memory ?? DEFAULT_BODY_MEMORY;
  const held = (body: number | undefined, at: (string | number)[]) => {
    if (body !== undefined && body > memory) {
      found.push({
        path: at,
        message: `A body the rules read is held whole: ${body} bytes cannot fit in ` +
          `server.body_memory (${memory} bytes); raise body_memory or lower this cap`,
      });
    }
  };
  // Rules read a route's bodies when it has `body:`, or a budget in tokens or dollars (its
  // output is clamped, and its worst case read from the body).
  const clientBudgets =
    config.clients?.some((client) =>
      client.limits?.tokens !== undefined || client.limits?.spend !== undefined
    ) ?? false;
  const readsBodies = (route: Config["routes"][number]) => {
    const limits = route.limits;
    const usage = route.usage ?? (route.preset ? PRESETS[route.preset].usage : undefined);
    return route.body !== undefined ||
      limits?.tokens !== undefined || limits?.spend !== undefined ||
      limits?.route?.tokens !== undefined || limits?.route?.spend !== undefined ||
      (usage !== undefined && clientBudgets);
  };
  const rulesRead = config.routes.some(readsBodies);
  config.clients?.forEach((client, i) => {
    if (rulesRead) held(client.limits?.body, ["clients", i, "limits", "body"]);
  });
  config.routes.forEach((route, i) => {
    found.push(...checkAuth(route.auth, ["routes", i, "auth"], config));
    if (readsBodies(route)) held(route.limits?.body, ["routes", i, "limits", "body"]);
    const generate = route.preset ? PRESETS[route.preset].generate : undefined;
    if (
      route.body?.max_tokens !== undefined && !route.body.generate && generate &&
      Object.values(generate).every((cap) => cap.length === 0)
    ) {
      found.push({
        path: ["routes", i, "body", "max_tokens"],
        message: `No endpoint of preset ${route.preset} takes an output cap: max_tokens ` +
          "would clamp nothing; name the endpoints in body.generate, or leave it out",
      });
    }
    const usage = route.usage ?? (route.preset ? PRESETS[route.preset].usage : undefined);
    const metered: [string | undefined, (string | number)[], string][] = [
      [route.limits?.tokens && "tokens", ["limits", "tokens"], "A token limit"],
      [route.limits?.spend && "spend", ["limits", "spend"], "A spend limit"],
      [route.limits?.route?.tokens && "tokens", ["limits", "route", "tokens"], "A token limit"],
      [route.limits?.route?.spend && "spend", ["limits", "route", "spend"], "A spend limit"],
    ];
    for (const [set, at, what] of metered) {
      if (set && !usage) {
        found.push({
          path: ["routes", i, ...at],
          message: `${what} needs the upstream's usage: set usage (openai, anthropic or ` +
            "gemini) or a preset that reports it",
        });
      }
    }
  });
  const visitors = config.server?.visitors;
  if (visitors?.earn_with === "both" && !(visitors.proof_of_work && visitors.turnstile)) {
    found.push({
      path: ["server", "visitors", "earn_with"],
      message: "earn_with: both needs proof_of_work and turnstile",
    });
  }
  const verify = visitors?.turnstile?.verify_url;
  if (verify !== undefined) {
    const url = new URL(verify);
    if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
      found.push({
        path: ["server", "visitors", "turnstile", "verify_url"],
        message: "The Turnstile verify_url must use https (http only for loopback hosts)",
      });
    }
  }
  const webhook = config.server?.alerts?.webhook;
  if (webhook !== undefined) {
    const url = new URL(webhook);
    if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
      found.push({
        path: ["server", "alerts", "webhook"],
        message: "The alerts webhook must use https (http only for loopback hosts)",
      });
    }
  }
  return found;
}
