/**
 * The shape of a WebSocket session's log fields: written by a session when it ends, carried on
 * its request's exchange, printed in its log line.
 *
 * @module
 */

/**
 * What a WebSocket session did: an upgrade's line is written once, when the session ends, with
 * its duration, its bytes each way (`bytes_in`, `bytes_out`), its tokens and cost, and this.
 */
export interface SessionLog {
  /** Frames from the client. */
  frames_in: number;
  /** Frames to the client. */
  frames_out: number;
  /** Responses the upstream reported usage for. */
  responses: number;
  /** Who ended the session. */
  closed_by: "client" | "upstream" | "gateway";
  /** The close code the client sent or was sent. */
  close_client?: number;
  /** The close code the upstream sent or was sent. */
  close_upstream?: number;
  /** The model the session used, once known. */
  model?: string;
}
