/**
 * The presets by name.
 *
 * @module
 */
import { anthropic } from "./anthropic.ts";
import { fal } from "./fal.ts";
import { gemini } from "./gemini.ts";
import { inferenceSh } from "./inference_sh.ts";
import { openai } from "./openai.ts";
import type { Preset } from "./preset.ts";

export type { Preset, UsageFormat } from "./preset.ts";

/** Every preset a route can name with `preset:`. */
export const PRESETS = {
  openai,
  anthropic,
  gemini,
  "inference.sh": inferenceSh,
  fal,
} as const satisfies Record<string, Preset>;

/** The preset names a route may use. */
export type PresetName = keyof typeof PRESETS;

/** The preset names, for the schema's enum. */
export const PRESET_NAMES = Object.keys(PRESETS) as [PresetName, ...PresetName[]];
