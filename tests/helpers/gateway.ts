/**
 * Starts keyward in this process on a free loopback port, from YAML text, collecting its
 * log records.
 *
 * @module
 */
import { loadConfigText } from "../../src/config/load.ts";
import { buildGateway, type GatewayHooks } from "../../src/gateway.ts";
import type { KeyReaders } from "../../src/keys/source.ts";
import { Http1Client } from "../../src/proxy/http1/client.ts";
import type { RequestRecord } from "../../src/observe/log.ts";
import type { SessionBoard } from "../../src/realtime/board.ts";

/** A running in-process gateway. */
export interface TestGateway {
  /** Base URL, e.g. `http://127.0.0.1:41235`. */
  url: string;
  /** Every finished request's log record. */
  logs: RequestRecord[];
  /** The WebSocket sessions open now. */
  sessions(): SessionBoard;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Environment for tests: only the variables given, nothing from the real environment. */
export function fakeEnv(vars: Record<string, string>): KeyReaders["env"] {
  return (name) => vars[name];
}

/** Options for {@linkcode startGateway}. */
export interface StartOptions {
  /** The fetch for upstream calls; by default the standalone server's HTTP/1.1 client. */
  upstreamFetch?: typeof fetch;
  /** Serve HTTPS with this certificate and key (PEM) instead of HTTP. */
  tls?: { cert: string; key: string };
}

/** Starts a gateway for `yaml`, reading keys and `${VAR}`s from `env` only. */
export async function startGateway(
  yaml: string,
  env: Record<string, string> = {},
  hooks?: GatewayHooks,
  options: StartOptions = {},
): Promise<TestGateway> {
  const { config } = loadConfigText(yaml, "test.yaml", fakeEnv(env));
  const logs: RequestRecord[] = [];
  // The client the standalone server uses, so these tests exercise it.
  const client = new Http1Client();
  const { app, close, sessions } = await buildGateway(config, {
    hooks,
    upstreamFetch: options.upstreamFetch ?? client.fetch as typeof fetch,
    log: (record) => logs.push(structuredClone(record)),
    readers: { env: fakeEnv(env), file: (path) => Deno.readTextFileSync(path) },
  });
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => ready.resolve(addr),
    ...options.tls,
  }, (request, info) => app.fetch(request, info));
  const addr = await ready.promise;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${addr.port}`,
    logs,
    sessions: () => sessions,
    close: async () => {
      await server.shutdown();
      await close();
      client.close();
    },
  };
}
