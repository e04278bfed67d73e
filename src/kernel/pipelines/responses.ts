/**
 * Response bodies of the ai-runner (v0.14.1 OpenAPI), shared by the pipelines that answer
 * with them. Extra properties are allowed: runners may add their own.
 */
import { Type } from '@sinclair/typebox'

const Media = Type.Object({ url: Type.String(), seed: Type.Integer(), nsfw: Type.Boolean() })

/** text-to-image, image-to-image, upscale */
export const ImageResponse = Type.Object({ images: Type.Array(Media) })

/** image-to-video: one list of frames per video */
export const VideoResponse = Type.Object({ frames: Type.Array(Type.Array(Media)) })

/** audio-to-text */
export const TextResponse = Type.Object({
  text: Type.String(),
  chunks: Type.Array(Type.Object({ timestamp: Type.Array(Type.Union([Type.Number(), Type.Null()])), text: Type.String() }))
})

/** segment-anything-2: masks, scores and logits as JSON-encoded nested arrays */
export const MasksResponse = Type.Object({ masks: Type.String(), scores: Type.String(), logits: Type.String() })

/** llm (non-streamed; streamed chunks carry `delta` instead of `message`) */
export const LLMResponse = Type.Object({
  id: Type.String(),
  model: Type.String(),
  created: Type.Integer(),
  usage: Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() }),
  choices: Type.Array(Type.Object({
    index: Type.Integer(),
    finish_reason: Type.Optional(Type.String()),
    message: Type.Optional(Type.Object({ role: Type.String(), content: Type.String() })),
    delta: Type.Optional(Type.Object({ role: Type.Optional(Type.String()), content: Type.Optional(Type.String()) }))
  }))
})

/** image-to-text */
export const ImageToTextResponse = Type.Object({ text: Type.String() })

/** text-to-speech */
export const AudioResponse = Type.Object({ audio: Type.Object({ url: Type.String() }) })

/** live-video-to-video: where the stream is published and controlled */
export const LiveVideoToVideoResponse = Type.Object({
  subscribe_url: Type.String(),
  publish_url: Type.String(),
  control_url: Type.Optional(Type.String()),
  events_url: Type.Optional(Type.String())
})
