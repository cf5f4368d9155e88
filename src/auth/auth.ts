/**
 * The auth stage: names the client of a request (for limits and the log line) or answers 401
 * before anything reaches the upstream. It publishes `client`: the id, whether a credential
 * proved it (a token, a JWT, a session) rather than an address, and what a client token's
 * claims grant.
 *
 * @module
 */
import type { AuthConfig, Config } from "../config/types.ts";
import type { Exchange } from "../exchange.ts";
import type { Stage } from "../stage.ts";
import { clientAddress, type ConnInfo } from "./client_ip.ts";
import { type Grant, grantCounts } from "./grant.ts";
import { presentedToken, type TokenMatcher, type TokenReader } from "./token.ts";

/** Who is calling. */
export interface Client {
  /**
   * The client id: an address, a token client's id, a JWT `sub`, a session's user, a
   * visitor's id.
   */
  readonly id: string;
  /**
   * True when a route credential proved it (token, JWT, session): such a client gets its own
   * limits from `clients:`. An address, or a name from the app's hook, is not.
   */
  readonly authenticated: boolean;
  /** What a client token's claims narrow (models, limits, single use), when they narrow any. */
  readonly grant?: Grant;
}

/** What the auth stage publishes. */
export type ClientVariables = { client: Client };

/**
 * The app's own session check, run before a route's auth: a client id allows, a Response
 * answers with it, false or undefined refuses with 401.
 */
export type AuthorizeHook = (
  request: Request,
) => string | Response | false | undefined | Promise<string | Response | false | undefined>;

/**
 * Checks visitor tokens (`auth: visitor`): the visitor it names, or the refusal. Made from
 * `server.visitors` (see `visitors/visitors.ts`), whose code only a config with visitors loads.
 */
export interface VisitorAuth {
  /** The client a presented visitor token names, or the answer refusing it. */
  authenticate(x: Exchange, token: string): Promise<Client | Response>;
}

/** What every route's auth shares, compiled once per config. */
export interface AuthContext {
  /** Matches `auth: token` credentials against `clients`. */
  tokens: TokenMatcher;
  /** Whether forwarding headers name the client's address. */
  trustForwarded: boolean;
  /** Checks visitor tokens, when `server.visitors` is set. */
  visitors?: VisitorAuth;
}

/** What the auth stage needs of a route. */
export interface AuthSettings {
  /** The route's name (a token's `routes` claim names it). */
  route: string;
  /** Reads a `token` or `jwt` client's credential where the route's SDKs send their key. */
  readToken?: TokenReader;
  /** The app's session check, when it has one. */
  authorize?: AuthorizeHook;
}

const BEARER = { "www-authenticate": "Bearer" };

/** The auth a route uses: its own, else the server default, else `none`. */
export function routeAuth(config: Config, own: AuthConfig | undefined): AuthConfig {
  return own ?? config.server?.auth ?? "none";
}

/** Whether a route's auth is a JWT (whose claims may narrow what the route allows). */
export function isJwt(auth: AuthConfig): boolean {
  return typeof auth === "object" && "jwt" in auth;
}

/** Names the client, or answers; a promise only where it must wait (JWT keys, sessions). */
type Named = (x: Exchange) => Client | Response | Promise<Client | Response>;

/**
 * Compiles one route's auth into its stage. The JWT verifier, the forward-auth client and the
 * visitor token checks are loaded only for a config that uses them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Exchange } from "../exchange.ts";
 * import { authStage } from "./auth.ts";
 * import { compileTokens } from "./token.ts";
 *
 * const tokens = compileTokens([{ id: "alice", token: "s3cret" }]);
 * const auth = await authStage("token", { tokens, trustForwarded: false }, { route: "openai" });
 *
 * const request = new Request("http://gateway/openai/v1/models", {
 *   headers: { authorization: "Bearer s3cret" },
 * });
 * const x = new Exchange(request, undefined, "req-1", "", "/openai/v1/models", () => {});
 * const answer = await auth(x, ({ client }) => Promise.resolve(new Response(client.id)));
 * assert.equal(await answer.text(), "alice");
 * ```
 */
export async function authStage(
  auth: AuthConfig,
  context: AuthContext,
  settings: AuthSettings,
): Promise<Stage<unknown, ClientVariables>> {
  const name = await namer(auth, context, settings);
  const authorize = settings.authorize;
  if (!authorize) {
    return (x, next) => {
      const named = name(x);
      if (named instanceof Promise) {
        return named.then((client) => client instanceof Response ? client : next({ client }));
      }
      return named instanceof Response ? Promise.resolve(named) : next({ client: named });
    };
  }
  // The app's hook runs first; a client it names keeps its name on a route with `auth: none`
  // (and, as an address would, the route's own limits).
  const none = auth === "none";
  return async (x, next) => {
    const verdict = await authorize(x.request);
    if (verdict instanceof Response) return verdict;
    if (!verdict) return x.refuse("hook_refused", "The request is not authorized");
    if (none) return next({ client: { id: verdict, authenticated: false } });
    const client = await name(x);
    return client instanceof Response ? client : next({ client });
  };
}

async function namer(
  auth: AuthConfig,
  context: AuthContext,
  settings: AuthSettings,
): Promise<Named> {
  const { tokens, trustForwarded } = context;
  const readToken = settings.readToken ?? presentedToken;
  const address = (x: Exchange) =>
    clientAddress(x.request, x.env as ConnInfo | undefined, trustForwarded);

  if (auth === "none") {
    return (x) => ({ id: address(x), authenticated: false });
  }
  if (auth === "token") {
    return (x) => {
      const token = readToken(x.request.headers, x.request.url);
      if (!token) {
        return x.refuse("no_credentials", "Send a token as Authorization: Bearer <token>", BEARER);
      }
      const id = tokens(token);
      if (!id) return x.refuse("unknown_token", "The token is not valid", BEARER);
      return { id, authenticated: true };
    };
  }
  if (auth === "visitor") {
    const visitors = context.visitors;
    if (!visitors) throw new Error("auth: visitor needs server.visitors");
    return (x) => {
      const token = readToken(x.request.headers, x.request.url);
      if (!token) {
        return x.refuse(
          "no_credentials",
          "Send a visitor token as Authorization: Bearer <token> (earn one with /keyward/visitor.js)",
          BEARER,
        );
      }
      return visitors.authenticate(x, token);
    };
  }
  if ("jwt" in auth) {
    const { compileJwt } = await import("./jwt.ts");
    const verify = compileJwt(auth.jwt);
    const route = settings.route;
    return async (x) => {
      const token = readToken(x.request.headers, x.request.url);
      if (!token) {
        return x.refuse("no_credentials", "Send a JWT as Authorization: Bearer <token>", BEARER);
      }
      const result = await verify(token);
      if ("refused" in result) {
        return x.refuse(
          "jwt_refused",
          "The token is not valid",
          BEARER,
          undefined,
          result.refused,
        );
      }
      const grant = result.grant;
      const narrowed = narrowedOut(grant, route, x.request.headers);
      if (narrowed) {
        return x.refuse(
          "grant_refused",
          `The token does not allow ${narrowed}`,
          undefined,
          undefined,
          narrowed,
        );
      }
      return {
        id: result.client,
        authenticated: true,
        grant: grantCounts(grant) ? grant : undefined,
      };
    };
  }
  const { compileForwardAuth } = await import("./forward_auth.ts");
  const verify = compileForwardAuth(auth.forward);
  return async (x) => {
    const result = await verify(x.request, address(x));
    if ("failed" in result) {
      return x.refuse(
        "forward_auth_failed",
        "The session check failed",
        undefined,
        undefined,
        result.failed,
      );
    }
    if ("refused" in result) {
      return result.refused === 403
        ? x.refuse(
          "forward_auth_refused",
          "The session does not allow this request",
          undefined,
          "forbidden",
          "403",
        )
        : x.refuse("forward_auth_refused", "No valid session", BEARER, undefined, "401");
    }
    return { id: result.client, authenticated: true };
  };
}

/** What of the request a grant's route and origin claims leave out, if anything. */
function narrowedOut(grant: Grant, route: string, headers: Headers): string | undefined {
  if (grant.routes && !grant.routes.has(route)) return `route ${route}`;
  if (grant.origin !== undefined) {
    const origin = headers.get("origin");
    if (origin !== grant.origin) return origin ? "this origin" : "requests without an Origin";
  }
  return undefined;
}
