/**
 * A route's client authentication compiled into a rule: it names the client (for limits and
 * the log line) or answers 401 before anything reaches the upstream.
 *
 * @module
 */
import type { AuthConfig, Config } from "../config/types.ts";
import type { Rule } from "../context.ts";
import { errorResponse } from "../proxy/errors.ts";
import { clientAddress, type ConnInfo } from "./client_ip.ts";
import { compileForwardAuth } from "./forward_auth.ts";
import { type Grant, grantCounts } from "./grant.ts";
import { compileJwt } from "./jwt.ts";
import { presentedToken, type TokenMatcher, type TokenReader } from "./token.ts";

/** What every route's auth shares, compiled once per config. */
export interface AuthContext {
  /** Matches `auth: token` credentials against `clients`. */
  tokens: TokenMatcher;
  /** Whether forwarding headers name the client's address. */
  trustForwarded: boolean;
}

function unauthorized(message: string): Response {
  return errorResponse("unauthorized", message, { "www-authenticate": "Bearer" });
}

/** The auth a route uses: its own, else the server default, else `none`. */
export function routeAuth(config: Config, own: AuthConfig | undefined): AuthConfig {
  return own ?? config.server?.auth ?? "none";
}

/**
 * Compiles one route's auth into a rule. `readToken` finds a `token` or `jwt` client's
 * credential where the route's SDKs send their key (see the route's preset).
 *
 * @example
 * ```ts
 * const rule = authRule("token", { tokens: compileTokens(config.clients ?? []), trustForwarded: false });
 * ```
 */
export function authRule(
  auth: AuthConfig,
  context: AuthContext,
  readToken: TokenReader = presentedToken,
  routeName = "",
): Rule {
  const { tokens, trustForwarded } = context;
  const address = (request: Request, env: unknown) =>
    clientAddress(request, env as ConnInfo | undefined, trustForwarded);

  if (auth === "none") {
    return async (c, next) => {
      const record = c.get("state").record;
      // A client named by the authorize hook keeps its name.
      record.client ??= address(c.req.raw, c.env);
      await next();
    };
  }
  if (auth === "token") {
    return async (c, next) => {
      const state = c.get("state");
      const token = readToken(c.req.raw.headers);
      if (!token) return unauthorized("Send a token as Authorization: Bearer <token>");
      const client = tokens(token);
      if (!client) {
        state.record.error = "unknown token";
        return unauthorized("The token is not valid");
      }
      state.record.client = client;
      state.authenticated = true;
      await next();
    };
  }
  if ("jwt" in auth) {
    const verify = compileJwt(auth.jwt);
    return async (c, next) => {
      const state = c.get("state");
      const token = readToken(c.req.raw.headers);
      if (!token) return unauthorized("Send a JWT as Authorization: Bearer <token>");
      const result = await verify(token);
      if ("refused" in result) {
        state.record.error = `jwt refused: ${result.refused}`;
        return unauthorized("The token is not valid");
      }
      const grant = result.grant;
      const narrowed = narrowedOut(grant, routeName, c.req.raw.headers);
      if (narrowed) {
        state.record.error = `token grant: ${narrowed}`;
        return errorResponse("forbidden", `The token does not allow ${narrowed}`);
      }
      state.record.client = result.client;
      state.authenticated = true;
      if (grantCounts(grant)) state.grant = grant;
      await next();
    };
  }
  const verify = compileForwardAuth(auth.forward);
  return async (c, next) => {
    const state = c.get("state");
    const result = await verify(c.req.raw, address(c.req.raw, c.env));
    if ("failed" in result) {
      state.record.error = `forward auth: ${result.failed}`;
      return errorResponse("bad_gateway", "The session check failed");
    }
    if ("refused" in result) {
      state.record.error = `forward auth refused (${result.refused})`;
      return result.refused === 403
        ? errorResponse("forbidden", "The session does not allow this request")
        : unauthorized("No valid session");
    }
    state.record.client = result.client;
    state.authenticated = true;
    await next();
  };
}

/** What of the request a grant's route and origin claims leave out, if anything. */
function narrowedOut(grant: Grant, routeName: string, headers: Headers): string | undefined {
  if (grant.routes && !grant.routes.has(routeName)) return `route ${routeName}`;
  if (grant.origin !== undefined) {
    const origin = headers.get("origin");
    if (origin !== grant.origin) return origin ? "this origin" : "requests without an Origin";
  }
  return undefined;
}
