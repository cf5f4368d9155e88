/**
 * The shape of a preset: what `preset: NAME` fills in on a route.
 *
 * @module
 */

/** Which upstream response format reports token usage. */
export type UsageFormat = "openai" | "anthropic" | "gemini";

/** What a preset fills in; a route's own values win over it. */
export interface Preset {
  /** Upstream base URL (path mode presets). */
  upstream?: string;
  /** Target mode defaults (browser SDK proxy protocols). */
  target?: { header?: string; query?: string; hosts: string[] };
  /** Key origin and injection. */
  key: { env: string; header?: string; format?: string; query?: string };
  /** Inference endpoints only: no files, fine-tuning, organization, billing or key admin. */
  allow: string[];
  /** How the upstream reports usage, for token limits and metrics. */
  usage?: UsageFormat;
}
