/**
 * The kinds of tokens upstreams bill apart: what usage reports are split into and what
 * `prices:` may price (routes.yaml names them).
 *
 * @module
 */

/**
 * The kinds of tokens priced apart, disjoint: each token an upstream reports is counted in
 * exactly one. The input side first (`input` is what no other kind holds: text, tool results),
 * then the output side (`output` is generated text, tool calls and whatever no other kind
 * holds; `reasoning` the model's hidden thinking where the upstream counts it apart).
 */
export const USAGE_KINDS = [
  "input",
  "cached_input",
  "cache_write",
  "cache_write_1h",
  "audio_input",
  "cached_audio_input",
  "image_input",
  "cached_image_input",
  "video_input",
  "cached_video_input",
  "output",
  "reasoning",
  "audio_output",
  "image_output",
  "video_output",
] as const;

/** One kind of tokens priced apart (see {@linkcode USAGE_KINDS}). */
export type UsageKind = typeof USAGE_KINDS[number];
