import assert from "node:assert/strict";
import {
  anthropicImageTokens,
  anthropicPageTokens,
  geminiImageTokens,
  geminiPageTokens,
  openaiImageTokens,
  openaiPageTokens,
} from "./media_tokens.ts";

let seed = 11;
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const sizes = Array.from({ length: 400 }, () => ({
  width: 1 + Math.floor(random() ** 2 * 8000),
  height: 1 + Math.floor(random() ** 2 * 8000),
}));

/** OpenAI's documented tile calculation, with the rounding a reader would pick. */
function tiles(width: number, height: number, round: (x: number) => number): number {
  let w = width;
  let h = height;
  if (Math.max(w, h) > 2048) {
    const s = 2048 / Math.max(w, h);
    [w, h] = [round(w * s), round(h * s)];
  }
  if (Math.min(w, h) > 768) {
    const s = 768 / Math.min(w, h);
    [w, h] = [round(w * s), round(h * s)];
  }
  return Math.ceil(w / 512) * Math.ceil(h / 512);
}

Deno.test("openaiImageTokens: the documented examples", () => {
  assert.equal(openaiImageTokens("gpt-4o", { width: 1024, height: 1024 }, "high"), 765);
  assert.equal(openaiImageTokens("gpt-4o", { width: 2048, height: 4096 }, "high"), 1105);
  assert.equal(openaiImageTokens("gpt-4o", { width: 4096, height: 8192 }, "low"), 85);
  assert.equal(openaiImageTokens("gpt-4.1-mini", { width: 1024, height: 1024 }), 1659); // 1024 x 1.62
  assert.equal(openaiImageTokens("gpt-4o-mini", { width: 128, height: 64 }), 2833 + 5667);
  assert.equal(openaiImageTokens("o3", { width: 128, height: 64 }), 225);
});

Deno.test("openaiImageTokens: never below the documented formula, under any rounding", () => {
  for (const { width, height } of sizes) {
    for (const round of [Math.floor, Math.round, Math.ceil]) {
      const tile = 85 + 170 * tiles(width, height, round);
      assert.ok(openaiImageTokens("gpt-4o", { width, height })! >= tile, `${width}x${height}`);
      assert.ok(openaiImageTokens("gpt-4o", undefined)! >= tile);
    }
    const patches = Math.min(Math.ceil(width / 32) * Math.ceil(height / 32), 1536);
    assert.ok(openaiImageTokens("gpt-4.1-nano", { width, height })! >= patches * 2.46);
    assert.ok(openaiImageTokens("gpt-4.1-nano", undefined)! >= patches * 2.46);
    const five = openaiImageTokens("gpt-5", { width, height })!;
    assert.ok(five >= 70 + 140 * tiles(width, height, Math.floor) && five >= patches * 1.62);
  }
});

Deno.test("openaiImageTokens: an unknown family or detail level has no bound", () => {
  assert.equal(openaiImageTokens("my-model", undefined), undefined);
  assert.equal(openaiImageTokens(undefined, undefined), undefined);
  assert.equal(openaiImageTokens("gpt-4o", undefined, "original"), undefined);
  assert.equal(openaiImageTokens("ft:gpt-4o-2024-08-06:acme::x", undefined), 1445);
  assert.equal(openaiPageTokens("gpt-4o-mini"), 2833 + 8 * 5667 + 3000);
  assert.equal(openaiPageTokens("my-model"), undefined);
});

Deno.test("anthropicImageTokens: never below w·h/750 of the image as the docs scale it", () => {
  assert.equal(
    anthropicImageTokens("claude-3-5-sonnet-20241022", { width: 1092, height: 1092 }),
    1590,
  );
  for (const { width, height } of sizes) {
    let w = width;
    let h = height;
    const fit = Math.min(1, 1568 / Math.max(w, h));
    [w, h] = [w * fit, h * fit];
    const documented = Math.min((w * h) / 750, 1600);
    const got = anthropicImageTokens("claude-sonnet-4-5", { width, height });
    assert.ok(got >= documented && got <= 1650, `${width}x${height}: ${got}`);
    assert.ok(anthropicImageTokens("claude-opus-4-7", { width, height }) >= got);
  }
  assert.equal(anthropicImageTokens("claude-opus-4-1-20250805", undefined), 1650);
  assert.equal(anthropicImageTokens("claude-opus-4-7", undefined), 4900);
  assert.equal(anthropicImageTokens("claude-next", undefined), 4900); // not parsed: the larger
  assert.equal(anthropicPageTokens("claude-3-haiku-20240307"), 4650);
});

Deno.test("geminiImageTokens: never below 258 per 768-px tile on Gemini 2", () => {
  for (const { width, height } of sizes) {
    const tiles = width <= 384 && height <= 384
      ? 1
      : Math.ceil(width / 768) * Math.ceil(height / 768);
    assert.ok(geminiImageTokens("gemini-2.5-flash", { width, height })! >= 258 * tiles);
    assert.ok(geminiImageTokens("gemini-flash-latest", { width, height })! >= 258 * tiles);
  }
  assert.equal(geminiImageTokens("gemini-2.0-flash", { width: 1000, height: 1000 }), 258 * 4);
  assert.equal(geminiImageTokens("gemini-3-flash-preview", { width: 9000, height: 9000 }), 1120);
  assert.equal(
    geminiImageTokens("gemini-3-pro-preview", undefined, { level: "MEDIA_RESOLUTION_ULTRA_HIGH" }),
    2240,
  );
  assert.equal(
    geminiImageTokens("gemini-3-pro-preview", undefined, "MEDIA_RESOLUTION_SOMETHING"),
    2240,
  );
  assert.equal(geminiImageTokens("gemini-3-pro-preview", undefined, { numTokens: 3000 }), 3000);
  assert.equal(geminiImageTokens("gemini-flash-latest", undefined), undefined);
  assert.equal(geminiPageTokens("gemini-2.5-pro"), 258);
  assert.equal(geminiPageTokens("gemini-3-pro-preview"), 560);
  assert.equal(geminiPageTokens("gemini-exp"), 560);
});
