/**
 * The demo a newcomer opens (`deno task demo`), in a real Chromium with no provider keys set:
 * the page earns a visitor token, then a streamed answer appears within seconds, with the
 * request id and the remaining rate limit; a realtime session streams text events and shows a
 * refused model switch; spending the limit shows a readable error; an inference.sh app runs
 * through the target route with its updates. The page's screenshot is kept.
 *
 * @module
 */
import assert from "node:assert/strict";
import { STAND_IN_KEY, startDemo } from "../examples/demo/main.ts";
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

    // A realtime session (a request of the route's ten): text events word by word.
    await page.click("#rt-connect");
    await page.waitForFunction(`document.getElementById("rt-state").textContent === "open"`);
    await page.click("#rt-send");
    await page.waitForFunction(
      `document.getElementById("rt-answer").textContent.endsWith("WebSocket proxy.")`,
      undefined,
      { timeout: 10_000 },
    );
    assert.match(await page.innerText("#rt-answer"), /heard you say: "Hello over a socket"/);
    await page.waitForFunction(
      `document.getElementById("rt-events").textContent.endsWith("response.done")`,
    );
    // Another model mid-session: refused with an error event, the socket closed with 1008.
    await page.click("#rt-switch");
    await page.waitForSelector("#rt-error:not([hidden])", { timeout: 5_000 });
    assert.match(await page.innerText("#rt-error"), /model_not_allowed/);
    await page.waitForFunction(
      `document.getElementById("rt-state").textContent === "closed 1008 model_not_allowed"`,
    );
    assert.ok(lines.some((line) => /^GET \/openai\/v1\/realtime 101 /.test(line)));

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
    for (const message of browser.messages) assert.ok(!message.includes(STAND_IN_KEY));
    assert.doesNotMatch(await page.innerText("#rt-answer"), /redacted/);
    await page.close();
  } finally {
    await browser.close();
    await demo.close();
  }
});
