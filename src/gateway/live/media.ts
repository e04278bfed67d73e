/**
 * The seam between a live session's media and the ways clients reach it.
 *
 * A live video-to-video session moves MPEG-TS segments (H.264 video) in both directions:
 * input segments towards the orchestrator, output segments back. Clients reach a session over
 * trickle HTTP (publish and subscribe of segments) or over WebRTC (WHIP ingest, WHEP playback);
 * both are adapters over this interface, so neither knows how the session reaches the mesh.
 */
export interface LiveSessionMedia {
  /** the stream id the client named (`/live/video-to-video/{stream}/start`) */
  readonly streamId: string
  /**
   * Feeds one complete MPEG-TS input segment into the session. Resolves once the session has
   * taken it; callers await it before sending the next one (this is the backpressure).
   * Rejects with a typed error when the session is closed or the segment is refused.
   */
  publishInput: (segment: Uint8Array, signal?: AbortSignal) => Promise<void>
  /**
   * Output segments in order from the moment of subscribing (each one a complete MPEG-TS
   * segment that decodes on its own); ends when the session ends, or when `signal` aborts.
   */
  subscribeOutput: (signal?: AbortSignal) => AsyncIterable<Uint8Array>
}

/** Looks up the running session for a stream id; undefined when there is none. */
export type LiveSessionLookup = (streamId: string) => LiveSessionMedia | undefined
