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

/** A page server: static HTML by path on 127.0.0.1, reachable under any loopback name. */
export interface PageServer {
  /** The port it listens on. */
  port: number;
  /** The origin of this server under a host name, e.g. `origin("localhost")`. */
  origin(host?: string): string;
  /** Serves `html` at `path` from now on (pages can name origins known only later). */
  set(path: string, html: string): void;
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
  const pages = new Map(Object.entries(initial));
  const server = await serveLoopback((request) => {
    const html = pages.get(new URL(request.url).pathname);
    if (html === undefined) return new Response("not found", { status: 404 });
    return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  const port = Number(new URL(server.url).port);
  return {
    port,
    origin: (host = "127.0.0.1") => `http://${host}:${port}`,
    set: (path, html) => void pages.set(path, html),
    close: server.close,
  };
}
