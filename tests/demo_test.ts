/**
 * The demo a newcomer opens (`deno task demo`), in a real Chromium with no provider keys set:
 * the page earns a visitor token, then a streamed answer appears within seconds, with the
 * request id and the remaining rate limit; spending the limit shows a readable error; an
 * inference.sh app runs through the target route with its updates. The page's screenshot is
 * kept.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startDemo } from "../examples/demo/main.ts";
import { launchBrowser } from "./helpers/browser.ts";

Deno.test({
  name: "demo: with no keys set, the page streams an answer, shows its limit, and runs an app",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const lines: string[] = [];
  const [demo, browser] = await Promise.all([
    startDemo({ port: 0, pagePort: 0, env: () => undefined, log: (line) => lines.push(line) }),
    launchBrowser(),
  ]);
  try {
    assert.deepEqual(demo.standIns, ["openai", "inference.sh"]);
    const page = await browser.newPage();
    await page.goto(demo.url);
    // The page earns its visitor token (a second of proof of work) before it takes questions.
    await page.waitForSelector("#send:not([disabled])", { timeout: 30_000 });
    assert.match(await page.innerText("#visitor"), /^Visitor token earned by proof of work/);
    await page.click("#send");
    // Words arrive 60 ms apart: the first within seconds, then the whole answer.
    await page.waitForFunction(
      `document.getElementById("answer").textContent.includes("stand-in")`,
      undefined,
      { timeout: 5_000 },
    );
    await page.waitForFunction(
      `document.getElementById("answer").textContent.endsWith("real model.")`,
      undefined,
      { timeout: 20_000 },
    );
    assert.match(await page.innerText("#answer"), /You asked: "What does keyward do\?"/);
    assert.match(await page.innerText("#request-id"), /^[\w.:-]+$/);
    assert.match(await page.innerText("#remaining"), /^9 of 10 requests left, resets in \d+ s$/);

    await page.click("#run");
    await page.waitForFunction(`document.getElementById("output").textContent !== ""`, undefined, {
      timeout: 10_000,
    });
    assert.match(
      await page.innerText("#output"),
      /^The stand-in ran infsh\/echo with "a lighthouse at dusk"$/,
    );
    assert.match(await page.innerText("#updates"), /running[\s\S]*completed/);
    assert.match(await page.innerText("#task-id"), /^[0-9a-z]{26}$/);

    await page.click("#burst");
    await page.waitForSelector("#chat-error:not([hidden])", { timeout: 10_000 });
    assert.match(
      await page.innerText("#chat-error"),
      /^Rate limit reached: Limit of 10 requests per window reached\. Try again in \d+ s\.$/,
    );
    assert.match(await page.innerText("#remaining"), /^0 of 10 requests left/);
    await browser.screenshot(page, "demo");
    assert.ok(lines.some((line) => line.startsWith("POST /openai/v1/chat/completions 429")));
    for (const message of browser.messages) assert.doesNotMatch(message, /stand-in"/);
    await page.close();
  } finally {
    await browser.close();
    await demo.close();
  }
});
