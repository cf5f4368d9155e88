/**
 * What an image, a document page or a second of audio costs at most, per provider and model
 * family: from the pixel size when it is known, else the most one item can cost. A result of
 * `undefined` means no documented maximum applies (the caller then treats the input as
 * unbounded).
 *
 * Sources:
 * - OpenAI: platform.openai.com/docs/guides/images-vision ("Calculating costs": fit in
 *   2048², shortest side to 768, 85 + 170 per 512-px tile; patch models: 32-px patches, at
 *   most 1,536, times 1.62 for gpt-4.1-mini / gpt-5-mini, 2.46 for the nanos, 1.72 for
 *   o4-mini); per-family base and tile tokens from the same page's table (gpt-4o-mini
 *   2,833 + 5,667, o1/o3 75 + 150, computer-use 65 + 129, gpt-5 70 + 140). gpt-5 models
 *   other than mini and nano are charged the larger of their tile formula and the patch
 *   formula at 1.62, since reports disagree on how they count.
 * - Anthropic: docs.anthropic.com/en/docs/build-with-claude/vision (tokens = w·h / 750,
 *   images past a 1,568-px long edge or about 1,600 tokens scaled down first); Claude Opus 4.7
 *   sees up to a 2,576-px long edge (about 4,784 tokens). PDF pages: an image of the page and
 *   its text, "typically 1,500–3,000 tokens per page" (build-with-claude/pdf-support).
 * - Gemini: ai.google.dev/gemini-api/docs/tokens (images with both sides ≤ 384 px: 258;
 *   larger ones in 768-px tiles of 258; PDF pages 258; audio 32 per second), and
 *   docs/media-resolution for Gemini 3 (per-level token counts).
 *
 * @module
 */
import type { ImageSize } from "./image_size.ts";

/** Tokens per second of audio input. */
export const AUDIO_TOKENS_PER_SECOND = {
  /**
   * Not documented for chat completions; reported at about 10 per second in, 20 out.
   * An assumption, with a margin.
   */
  openai: 20,
  /** Documented: 32 per second, at every media resolution. */
  gemini: 32,
} as const;

/** Text tokens allowed per PDF page besides its image (the docs' "typical" upper end). */
export const PAGE_TEXT_TOKENS = 3000;

interface TileRule {
  readonly kind: "tile";
  readonly base: number;
  readonly tile: number;
}
interface PatchRule {
  readonly kind: "patch";
  readonly multiplier: number;
}
/** How one family of OpenAI models counts an image: tiles, patches, or the larger of both. */
type ImageRule = TileRule | PatchRule | {
  readonly kind: "either";
  tile: TileRule;
  patch: PatchRule;
};

const tile = (base: number, tile: number): TileRule => ({ kind: "tile", base, tile });
const patch = (multiplier: number): PatchRule => ({ kind: "patch", multiplier });

/** OpenAI model families by name (after a fine-tune's `ft:`), the first match wins. */
const OPENAI_IMAGE: readonly (readonly [RegExp, ImageRule])[] = [
  [/^gpt-4o-mini/, tile(2833, 5667)],
  [/^(?:gpt-4\.1-mini|gpt-5(?:\.\d+)?-mini)/, patch(1.62)],
  [/^(?:gpt-4\.1-nano|gpt-5(?:\.\d+)?-nano)/, patch(2.46)],
  [/^(?:o4-mini|codex-mini)/, patch(1.72)],
  [/^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-4-turbo|gpt-4-(?:\d{4}-)?vision)/, tile(85, 170)],
  [/^o[13](?:-|$)/, tile(75, 150)],
  [/^computer-use-preview/, tile(65, 129)],
  [/^gpt-5/, { kind: "either", tile: tile(70, 140), patch: patch(1.62) }],
];

const PATCH_CAP = 1536;
/** Rounds up, forgiving the last bits of floating-point error. */
const up = (x: number) => Math.ceil(x - 1e-9);

function openaiRule(model: string | undefined): ImageRule | undefined {
  if (model === undefined) return undefined;
  const base = model.startsWith("ft:") ? model.slice(3) : model;
  return OPENAI_IMAGE.find(([pattern]) => pattern.test(base))?.[1];
}

function tileTokens(rule: TileRule, size: ImageSize | undefined, low: boolean): number {
  if (low) return rule.base;
  if (!size) return rule.base + rule.tile * 8; // 2048 x 768 at most: 4 x 2 tiles
  let { width: w, height: h } = size;
  const fit = 2048 / Math.max(w, h);
  if (fit < 1) [w, h] = [up(w * fit), up(h * fit)];
  const short = 768 / Math.min(w, h);
  if (short < 1) [w, h] = [up(w * short), up(h * short)];
  return rule.base + rule.tile * Math.ceil(w / 512) * Math.ceil(h / 512);
}

function patchTokens(rule: PatchRule, size: ImageSize | undefined): number {
  const patches = size
    ? Math.min(Math.ceil(size.width / 32) * Math.ceil(size.height / 32), PATCH_CAP)
    : PATCH_CAP;
  return Math.ceil(patches * rule.multiplier);
}

/**
 * The most an image costs on an OpenAI model: `size` when known (else the family's most for
 * any image), at `detail` (`low`, `high`, `auto` or unset; `auto` may choose `high`).
 * Undefined for a model of unknown family or a detail level it does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openaiImageTokens } from "./media_tokens.ts";
 *
 * assert.equal(openaiImageTokens("gpt-4o", { width: 4032, height: 3024 }), 765); // 4 tiles
 * assert.equal(openaiImageTokens("gpt-4o", undefined), 1445); // a URL: 8 tiles at most
 * assert.equal(openaiImageTokens("gpt-4o", undefined, "low"), 85);
 * assert.equal(openaiImageTokens("gpt-4.1-mini", { width: 1024, height: 1024 }), 1659);
 * assert.equal(openaiImageTokens("some-model", undefined), undefined);
 * ```
 */
export function openaiImageTokens(
  model: string | undefined,
  size: ImageSize | undefined,
  detail?: unknown,
): number | undefined {
  const rule = openaiRule(model);
  if (!rule) return undefined;
  if (
    detail !== undefined && detail !== null && detail !== "low" && detail !== "high" &&
    detail !== "auto"
  ) {
    return undefined;
  }
  const low = detail === "low";
  if (rule.kind === "tile") return tileTokens(rule, size, low);
  if (rule.kind === "patch") return patchTokens(rule, size);
  return Math.max(tileTokens(rule.tile, size, low), patchTokens(rule.patch, size));
}

/**
 * The most one PDF page costs on an OpenAI model: an image of the page at full detail and
 * {@linkcode PAGE_TEXT_TOKENS} of its text; undefined for a model of unknown family.
 *
 * @example
 * ```ts
 * import { openaiPageTokens } from "./media_tokens.ts";
 *
 * if (openaiPageTokens("gpt-4o") !== 1445 + 3000) throw new Error("changed");
 * ```
 */
export function openaiPageTokens(model: string | undefined): number | undefined {
  const image = openaiImageTokens(model, undefined, "high");
  return image === undefined ? undefined : image + PAGE_TEXT_TOKENS;
}

/** Claude's image tiers: the long edge images are scaled to and their token ceiling. */
interface ClaudeTier {
  readonly edge: number;
  readonly tokens: number;
  readonly most: number;
}
const CLAUDE_STANDARD: ClaudeTier = { edge: 1568, tokens: 1600, most: 1650 };
const CLAUDE_HIGH: ClaudeTier = { edge: 2576, tokens: 4784, most: 4900 };

/**
 * Claude models before 4.7 see images at the standard size; Opus 4.7, later models and any
 * name this does not parse are taken to see the high-resolution size.
 */
function claudeTier(model: string | undefined): ClaudeTier {
  const name = model ?? "";
  // claude-3-5-sonnet-20241022, claude-3-opus-20240229, claude-sonnet-4-5, claude-opus-4-20250514
  const old = /^claude-(\d)(?:-(\d))?-(?:opus|sonnet|haiku)/.exec(name);
  const current = /^claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2})(?!\d))?/.exec(name);
  const match = old ?? current;
  if (!match) return CLAUDE_HIGH;
  const major = Number(match[1]);
  const minor = Number(match[2] ?? 0);
  return major < 4 || (major === 4 && minor < 7) ? CLAUDE_STANDARD : CLAUDE_HIGH;
}

/**
 * The most an image costs on a Claude model: `w·h / 750` (or its 28-px patches and 4, when
 * more) after scaling to the model's long edge and token ceiling, never more than the most
 * any image costs; that most when the size is unknown (a URL or file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anthropicImageTokens } from "./media_tokens.ts";
 *
 * assert.equal(anthropicImageTokens("claude-sonnet-4-5", { width: 1000, height: 1000 }), 1334);
 * assert.equal(anthropicImageTokens("claude-sonnet-4-5", undefined), 1650);
 * assert.equal(anthropicImageTokens("claude-opus-4-7", undefined), 4900);
 * ```
 */
export function anthropicImageTokens(
  model: string | undefined,
  size: ImageSize | undefined,
): number {
  const tier = claudeTier(model);
  if (!size) return tier.most;
  let { width: w, height: h } = size;
  const fit = tier.edge / Math.max(w, h);
  if (fit < 1) [w, h] = [up(w * fit), up(h * fit)];
  if ((w * h) / 750 > tier.tokens) {
    const shrink = Math.sqrt((tier.tokens * 750) / (w * h));
    [w, h] = [up(w * shrink), up(h * shrink)];
  }
  const tokens = Math.max(up((w * h) / 750), Math.ceil(w / 28) * Math.ceil(h / 28) + 4);
  return Math.min(tokens, tier.most);
}

/**
 * The most one PDF page costs on a Claude model: the most an image costs and
 * {@linkcode PAGE_TEXT_TOKENS} of text.
 *
 * @example
 * ```ts
 * import { anthropicPageTokens } from "./media_tokens.ts";
 *
 * if (anthropicPageTokens("claude-sonnet-4-5") !== 1650 + 3000) throw new Error("changed");
 * ```
 */
export function anthropicPageTokens(model: string | undefined): number {
  return claudeTier(model).most + PAGE_TEXT_TOKENS;
}

/** Gemini 3 media resolution levels and their tokens per image, page or frame. */
const LEVELS: Readonly<Record<string, number>> = {
  LOW: 280,
  MEDIUM: 560,
  HIGH: 1120,
  ULTRA_HIGH: 2240,
};
/** What a level the request does not name (or names in a way not known) may cost. */
const ANY_LEVEL = 2240;

/** Which Gemini generation a model is: 2 (1.x and 2.x), 3 (3 and later) or unknown. */
function geminiGeneration(model: string | undefined): 2 | 3 | undefined {
  const match = /^(?:models\/)?gemini-(\d+)(?:\.\d+)?-/.exec(model ?? "");
  if (!match) return undefined;
  return Number(match[1]) >= 3 ? 3 : 2;
}

/**
 * The tokens of a Gemini 3 media resolution `level` (`MEDIA_RESOLUTION_HIGH`, `high`, or
 * `{ level, numTokens }`), or `fallback` when none is set.
 */
function levelTokens(level: unknown, fallback: number): number {
  if (level === undefined || level === null) return fallback;
  if (typeof level === "object") {
    const { level: named, numTokens, num_tokens } = level as Record<string, unknown>;
    const count = typeof numTokens === "number" ? numTokens : num_tokens;
    const byLevel = levelTokens(named, fallback);
    return typeof count === "number" && count > byLevel ? Math.ceil(count) : byLevel;
  }
  if (typeof level !== "string") return ANY_LEVEL;
  const name = level.toUpperCase().replace(/^MEDIA_RESOLUTION_/, "");
  if (name === "UNSPECIFIED") return fallback;
  return LEVELS[name] ?? ANY_LEVEL;
}

/** Gemini 2.x tiling: the larger of 768-px tiles and the crop unit some reports describe. */
function geminiTiles(size: ImageSize): number {
  const { width: w, height: h } = size;
  if (w <= 384 && h <= 384) return 258;
  const unit = Math.min(768, Math.max(256, Math.floor(Math.min(w, h) / 1.5)));
  return 258 * Math.ceil(w / unit) * Math.ceil(h / unit);
}

/**
 * The most an image costs on a Gemini model. Gemini 2.x tiles it by its size (no maximum
 * is documented, so an image of unknown size is undefined: unbounded); Gemini 3 charges
 * its media resolution `level` (the part's, else the request's; 1,120 when unset); a model
 * of unknown generation is charged the larger of both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { geminiImageTokens } from "./media_tokens.ts";
 *
 * assert.equal(geminiImageTokens("gemini-2.5-flash", { width: 300, height: 200 }), 258);
 * assert.equal(geminiImageTokens("gemini-2.5-flash", undefined), undefined);
 * assert.equal(geminiImageTokens("gemini-3-pro-preview", undefined), 1120);
 * assert.equal(geminiImageTokens("gemini-3-pro-preview", undefined, "MEDIA_RESOLUTION_LOW"), 280);
 * ```
 */
export function geminiImageTokens(
  model: string | undefined,
  size: ImageSize | undefined,
  level?: unknown,
): number | undefined {
  const generation = geminiGeneration(model);
  const three = levelTokens(level, LEVELS.HIGH);
  if (generation === 3) return three;
  if (!size) return undefined;
  const two = geminiTiles(size);
  return generation === 2 ? two : Math.max(two, three);
}

/**
 * The most one PDF page costs on a Gemini model: 258 on Gemini 2.x, the media resolution
 * level on Gemini 3 (560 when unset), the larger on a model of unknown generation.
 *
 * @example
 * ```ts
 * import { geminiPageTokens } from "./media_tokens.ts";
 *
 * if (geminiPageTokens("gemini-2.0-flash") !== 258) throw new Error("changed");
 * ```
 */
export function geminiPageTokens(model: string | undefined, level?: unknown): number {
  const generation = geminiGeneration(model);
  const three = levelTokens(level, LEVELS.MEDIUM);
  if (generation === 2) return 258;
  return generation === 3 ? three : Math.max(258, three);
}
