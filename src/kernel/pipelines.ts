/**
 * The pipelines Shoal routes, named exactly as the ai-runner routes them
 * (`POST /<pipeline>`). This list is the one source of truth for pipeline names on
 * the wire, in announcements and in the gateway's routes.
 */
export const PIPELINES = [
  'text-to-image',
  'image-to-image',
  'image-to-video',
  'upscale',
  'audio-to-text',
  'segment-anything-2',
  'llm',
  'image-to-text',
  'text-to-speech',
  'live-video-to-video'
] as const

export type PipelineName = typeof PIPELINES[number]

export function isPipelineName (value: unknown): value is PipelineName {
  return typeof value === 'string' && (PIPELINES as readonly string[]).includes(value)
}

/** How the runner expects the request body for each pipeline. */
export const PIPELINE_BODY: Record<PipelineName, 'json' | 'multipart'> = {
  'text-to-image': 'json',
  'image-to-image': 'multipart',
  'image-to-video': 'multipart',
  upscale: 'multipart',
  'audio-to-text': 'multipart',
  'segment-anything-2': 'multipart',
  llm: 'json',
  'image-to-text': 'multipart',
  'text-to-speech': 'json',
  'live-video-to-video': 'json'
}

/**
 * The unit a price is quoted in, per pipeline. Prices in announcements are
 * `pricePerUnit` wei for `pixelsPerUnit` of these units.
 */
export const PIPELINE_UNIT: Record<PipelineName, 'pixel' | 'audio-ms' | 'token' | 'character' | 'second'> = {
  'text-to-image': 'pixel',
  'image-to-image': 'pixel',
  'image-to-video': 'pixel',
  upscale: 'pixel',
  'audio-to-text': 'audio-ms',
  'segment-anything-2': 'pixel',
  llm: 'token',
  'image-to-text': 'pixel',
  'text-to-speech': 'character',
  'live-video-to-video': 'second'
}
