/**
 * `deno task demo`: keyward, a small browser app on its own origin, and (for each provider
 * whose key is not set) a local stand-in provider, then one URL to open. The app chats with
 * streaming through the `openai` route, holds a realtime session (text events over a
 * WebSocket, no voice) through the same route, and runs an inference.sh app through the target
 * route,
 * with the SDKs bundled for the browser here (`deno bundle --platform=browser`); it shows the
 * request id, the remaining rate limit and a readable error when a limit hits. The page has no
 * accounts: it earns a visitor token with the gateway's `/keyward/visitor.js` (a second of
 * proof of work) and the `openai` route takes nothing else (`auth: visitor`).
 *
 * With `OPENAI_API_KEY` and `INFERENCE_API_KEY` in the environment it talks to the real
 * providers. `DEMO_PORT` (8080) is keyward's port and `DEMO_PAGE_PORT` (5173) the page's; a
 * port in use is replaced by a free one. `KEYWARD_VISITOR_SECRET` signs visitor tokens (a
 * random one for each start when it is not set).
 *
 * @module
 */
import { createGateway, type Gateway } from "../../mod.ts";
import type { RequestRecord } from "../../mod.ts";
import { type StandIn, startStandIn } from "./stand_in.ts";

/** Options for {@linkcode startDemo}. */
export interface DemoOptions {
  /** keyward's port (0: any free one). */
  port?: number;
  /** The page's port (0: any free one). */
  pagePort?: number;
  /** Reads the environment (the process's by default). */
  env?: (name: string) => string | undefined;
  /** Where a line per request goes (standard output by default). */
  log?: (line: string) => void;
}

/** A running demo. */
export interface Demo {
  /** The page to open. */
  url: string;
  /** keyward's base URL. */
  gateway: string;
  /** Which providers are stand-ins. */
  standIns: string[];
  /** Stops everything. */
  close(): Promise<void>;
}

const here = (file: string) => new URL(file, import.meta.url);
/** The key the demo gives stand-in providers (they take any). */
export const STAND_IN_KEY = "sk-demo-stand-in-key";

/** Where page.html takes the demo's settings (gateway URL, stand-ins) as JSON. */
const CONFIG_SLOT = /(<script id="config" type="application\/json">)\s*null\s*(<\/script>)/;

/** Bundles the browser SDKs the page imports into one ES module. */
async function bundleSdk(): Promise<string> {
  const out = await Deno.makeTempFile({ prefix: "keyward-demo-", suffix: ".js" });
  try {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform=browser", "-o", out, here("sdk.ts").pathname],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`Cannot bundle the SDKs: ${new TextDecoder().decode(stderr)}`);
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/** Serves `handler` on 127.0.0.1 at `port`, or at a free port when that one is taken. */
async function listen(port: number, handler: Deno.ServeHandler) {
  const serve = (p: number) => {
    const ready = Promise.withResolvers<number>();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: p,
      onListen: (addr) => ready.resolve(addr.port),
    }, handler);
    return ready.promise.then((port) => ({ port, close: () => server.shutdown() }));
  };
  try {
    return await serve(port);
  } catch (error) {
    if (port === 0 || !(error instanceof Deno.errors.AddrInUse)) throw error;
    return await serve(0);
  }
}

function routes(pageOrigin: string, openai?: StandIn, inference?: StandIn): string {
  return `server:
  cors: { origins: ["${pageOrigin}"], credentials: true }
  status: /keyward/status
  visitors:
    secret: \${KEYWARD_VISITOR_SECRET}
    proof_of_work: { seconds: 1 }
    per_address: 50/hour
routes:
  - name: openai
    path: /openai
    preset: openai
    auth: visitor
${openai ? `    upstream: ${openai.url}\n` : ""}    limits: { requests: 10/min, body: 1mb }
    body: { models: [gpt-4o-mini, gpt-realtime], max_tokens: 400 }
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
${inference ? `    target: { hosts: ["${inference.host}"] }\n` : ""}    limits: { requests: 20/min }
`;
}

function logLine(record: RequestRecord): string {
  const error = record.error ? ` (${record.error})` : "";
  return `${record.method} ${record.path} ${record.status} ${Math.round(record.duration_ms)} ms` +
    error;
}

/**
 * Starts the demo.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ port: 0, pagePort: 0 });
 * console.log(demo.url);
 * await demo.close();
 * ```
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const log = options.log ?? ((line: string) => console.log(line));
  const needOpenai = !env("OPENAI_API_KEY");
  const needInference = !env("INFERENCE_API_KEY");
  const [sdk, openai, inference] = await Promise.all([
    bundleSdk(),
    needOpenai ? startStandIn() : undefined,
    needInference ? startStandIn() : undefined,
  ]);
  const files = {
    html: await Deno.readTextFile(here("page.html")),
    app: await Deno.readTextFile(here("app.js")),
  };
  let gatewayUrl = "";
  const page = await listen(options.pagePort ?? 5173, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/") {
      const config = JSON.stringify({
        gateway: gatewayUrl,
        inferenceBase: inference?.url,
        standIns: [needOpenai && "openai", needInference && "inference.sh"].filter(Boolean),
      });
      const json = config.replaceAll("<", "\\u003c");
      const html = files.html.replace(CONFIG_SLOT, (_, open, close) => open + json + close);
      return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    const script = path === "/app.js" ? files.app : path === "/sdk.js" ? sdk : undefined;
    if (script === undefined) return new Response("not found", { status: 404 });
    return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8" } });
  });
  const pageOrigin = `http://localhost:${page.port}`;
  // Stand-ins answer any key; a real key is only ever read from the environment. (keyward
  // redacts a key wherever it could echo back, so this one is no word the answers use.)
  const standInKey = (name: string) =>
    (name === "OPENAI_API_KEY" && needOpenai) || (name === "INFERENCE_API_KEY" && needInference)
      ? STAND_IN_KEY
      : undefined;
  // Visitor tokens of a demo need outlive nothing: without a configured secret, a fresh one.
  const visitorSecret = env("KEYWARD_VISITOR_SECRET") ??
    Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16)).join("");
  const settings = (name: string) => name === "KEYWARD_VISITOR_SECRET" ? visitorSecret : undefined;
  let gateway: Gateway | undefined;
  let server: { port: number; close(): Promise<void> } | undefined;
  try {
    gateway = await createGateway(routes(pageOrigin, openai, inference), undefined, {
      log: (record) => log(logLine(record)),
      readers: {
        env: (name) => settings(name) ?? env(name) ?? standInKey(name),
        file: (path) => Deno.readTextFileSync(path),
      },
    });
    server = await listen(options.port ?? 8080, gateway.fetch);
  } catch (error) {
    await Promise.all([page.close(), openai?.close(), inference?.close(), gateway?.close()]);
    throw error;
  }
  gatewayUrl = `http://127.0.0.1:${server.port}`;
  return {
    url: `${pageOrigin}/`,
    gateway: gatewayUrl,
    standIns: [needOpenai && "openai", needInference && "inference.sh"].filter(Boolean) as string[],
    close: async () => {
      await Promise.all([server.close(), page.close(), openai?.close(), inference?.close()]);
      await gateway.close();
    },
  };
}

if (import.meta.main) {
  const demo = await startDemo();
  console.log(
    demo.standIns.length
      ? `keyward demo: no key set for ${demo.standIns.join(" and ")}, so a local stand-in answers`
      : "keyward demo: talking to the real providers",
  );
  console.log(`\n  Open ${demo.url}\n`);
}
