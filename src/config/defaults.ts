/**
 * What routes.yaml means where it is silent: the defaults that the loader's checks, `check`
 * and the stages share.
 *
 * @module
 */

/** The default `server.body_memory`: bytes held for body rules across all requests at once. */
export const DEFAULT_BODY_MEMORY = 64 * 1024 * 1024;

/**
 * JSON bodies read for rules are refused past this size when the route sets no `limits.body`.
 * 4 MiB holds a chat request of about a million tokens of text; a base64 image is larger
 * than its file by a third, so routes that take images in JSON may need to raise it.
 */
export const DEFAULT_RULES_BODY_BYTES = 4 * 1024 * 1024;

/** Default time to wait for the upstream's response headers (`limits.timeout`), in ms. */
export const DEFAULT_TIMEOUT_MS = 300_000;

/**
 * The output clamp a route with a token budget gets when its `body.max_tokens` is unset (or a
 * quarter of its smallest budget, when that is less): a request that names no cap would
 * otherwise have to reserve the upstream's own maximum, and a budget should hold a few.
 */
export const DEFAULT_BUDGET_MAX_TOKENS = 4096;

/**
 * The longest a WebSocket session stays open when its route sets no `limits.session`: an
 * hour, as long as OpenAI's own realtime sessions last.
 */
export const DEFAULT_SESSION_MS = 60 * 60_000;
