/**
 * A real Chromium for tests: Debian's `/usr/bin/chromium` driven by `playwright-core` (no
 * browser download), headless, with a fresh profile each launch, and pages served from their
 * own loopback origins. Screenshots go to `dist/artifacts/browser/`.
 *
 * Origins on one machine: `http://127.0.0.1:A` and `http://127.0.0.1:B` are the same site but
 * different origins; `http://localhost:A` and `http://127.0.0.1:B` are different sites; and
 * the names given in `hosts` (e.g. `evil.test`) resolve to 127.0.0.1 inside this browser only,
 * so a test can serve pages from sites with real-looking names.
 *
 * @module
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { serveLoopback } from "./serve.ts";

/** Where the browser is: Debian's package, or `KEYWARD_CHROMIUM`. */
export const CHROMIUM_PATH = Deno.env.get("KEYWARD_CHROMIUM") ?? "/usr/bin/chromium";

/** The flags every launch uses: headless, no sandbox (root in CI), nothing phoning home. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where screenshots are kept (gitignored). */
export const ARTIFACTS = new URL("../../dist/artifacts/browser/", import.meta.url).pathname;

/** Options for {@linkcode launchBrowser}. */
export interface LaunchOptions {
  /** Host names that resolve to 127.0.0.1 in this browser, e.g. `["evil.test"]`. */
  hosts?: readonly string[];
}

/** A running Chromium with one fresh profile. */
export interface TestBrowser {
  /** The browser context (one profile: cookies, cache). */
  context: BrowserContext;
  /** Every console message and uncaught page error of every page, as text, in order. */
  messages: string[];
  /** Opens a new tab. */
  newPage(): Promise<Page>;
  /** Saves a full-page screenshot as `dist/artifacts/browser/<name>.png`; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Launches Debian's Chromium with a fresh user-data dir.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser({ hosts: ["evil.test"] });
 * const page = await browser.newPage();
 * await page.goto("http://evil.test:8000/");
 * await browser.close();
 * ```
 */
export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Cannot find Chromium at ${CHROMIUM_PATH}: install Debian's chromium (.ci/run does)`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "keyward-chromium-" });
  const args = [...CHROMIUM_ARGS];
  if (options.hosts?.length) {
    args.push(`--host-resolver-rules=${options.hosts.map((h) => `MAP ${h} 127.0.0.1`).join(",")}`);
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    viewport: { width: 900, height: 600 },
  });
  const messages: string[] = [];
  context.on("console", (message) => void messages.push(`${message.type()}: ${message.text()}`));
  context.on("weberror", (error) => void messages.push(`pageerror: ${error.error()}`));
  return {
    context,
    messages,
    newPage: () => context.newPage(),
    screenshot: async (page, name) => {
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const path = `${ARTIFACTS}${name}.png`;
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: async () => {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** A page server: static HTML (and scripts) by path on 127.0.0.1, under any loopback name. */
export interface PageServer {
  /** The port it listens on. */
  port: number;
  /** The origin of this server under a host name, e.g. `origin("localhost")`. */
  origin(host?: string): string;
  /**
   * Serves `html` at `path` from now on (pages can name origins known only later); another
   * `contentType` serves scripts (an SDK bundle) the same way.
   */
  set(path: string, html: string, contentType?: string): void;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Serves `pages` (path to HTML) on 127.0.0.1 at a free port; other paths get 404.
 *
 * @example
 * ```ts
 * const site = await servePages({ "/": "<h1>hi</h1>" });
 * site.origin("localhost"); // "http://localhost:<port>"
 * ```
 */
export async function servePages(initial: Record<string, string> = {}): Promise<PageServer> {
  const html = "text/html; charset=utf-8";
  const pages = new Map(
    Object.entries(initial).map(([path, body]) => [path, { body, type: html }]),
  );
  const server = await serveLoopback((request) => {
    const page = pages.get(new URL(request.url).pathname);
    if (page === undefined) return new Response("not found", { status: 404 });
    return new Response(page.body, { headers: { "content-type": page.type } });
  });
  const port = Number(new URL(server.url).port);
  return {
    port,
    origin: (host = "127.0.0.1") => `http://${host}:${port}`,
    set: (path, body, type = html) => void pages.set(path, { body, type }),
    close: server.close,
  };
}

/**
 * Bundles `entry` (a module importing npm SDKs) into one ES module for the browser with
 * `deno bundle --platform=browser`, and returns its text.
 *
 * @example
 * ```ts
 * const sdk = await bundleForBrowser(new URL("../sdk/browser_entry.ts", import.meta.url));
 * site.set("/sdk.js", sdk, "text/javascript");
 * ```
 */
export async function bundleForBrowser(entry: URL): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-bundle-" });
  try {
    const out = `${dir}/bundle.js`;
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform=browser", "-o", out, entry.pathname],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`Cannot bundle ${entry.pathname}: ${new TextDecoder().decode(stderr)}`);
    }
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Everything a browser sent and received, as text, for checking that no secret is in it. */
export interface NetworkCapture {
  /** Waits for the bodies still being read, then returns every line captured. */
  lines(): Promise<string[]>;
}

/**
 * Records every request (URL, headers, body) and response (status, headers, body) of every
 * page in `browser`.
 */
export function captureNetwork(browser: TestBrowser): NetworkCapture {
  const lines: string[] = [];
  const pending: Promise<unknown>[] = [];
  browser.context.on("request", (request) => {
    pending.push(
      request.allHeaders().then((headers) => {
        lines.push(`> ${request.method()} ${request.url()} ${JSON.stringify(headers)}`);
        lines.push(`> body ${request.postData() ?? ""}`);
      }).catch(() => {}),
    );
  });
  browser.context.on("response", (response) => {
    pending.push(
      (async () => {
        lines.push(
          `< ${response.status()} ${response.url()} ${JSON.stringify(await response.allHeaders())}`,
        );
        // An EventSource the page closed never finishes; its events are in the page's DOM.
        const body = await Promise.race([
          response.body().then((b) => new TextDecoder().decode(b)),
          new Promise<string>((resolve) => setTimeout(() => resolve("(still open)"), 2_000)),
        ]);
        lines.push(`< body ${body}`);
      })().catch(() => {}),
    );
  });
  return {
    lines: async () => {
      await Promise.all(pending);
      return lines;
    },
  };
}
