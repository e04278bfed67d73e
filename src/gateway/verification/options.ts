import type { PipelineName } from '../../kernel/pipelines.js'

/** How two answers to the same job are compared (compare.ts); `none`: never spot-checked (an operator's own app need not be deterministic). */
export type CompareMode = 'bytes' | 'image' | 'text' | 'none'

export interface VerificationOptions {
  /** the share of successful jobs re-run on a second orchestrator of another operator, 0..1 @default 0 (off) */
  sampleRate: number
  /** spot checks (and their referees) running at once; a sampled job beyond it is not checked @default 4 */
  maxConcurrent: number
  /** a result larger than this is not kept for a check, bytes @default 16 MiB */
  maxResultBytes: number
  /** a check (or referee) job must end within this, ms @default 120_000 */
  checkTimeoutMs: number
  /** how each pipeline's answers are compared; bytes where the pipeline is deterministic for a model and seed */
  compareModes: Record<PipelineName, CompareMode>
  /** images agree at or above this similarity (min of 1 - mean absolute difference and correlation), 0..1 @default 0.9 */
  imageThreshold: number
  /** texts agree at or above this share of matching tokens, 0..1 @default 0.8 */
  textThreshold: number
  /** confirmed wrong answers (lost against a referee) after which an orchestrator gets no more work @default 1 */
  excludeAfterFaults: number
  /** how long an excluded orchestrator stays excluded, ms @default 24 h */
  exclusionMs: number
}

export const defaultVerificationOptions: VerificationOptions = {
  sampleRate: 0,
  maxConcurrent: 4,
  maxResultBytes: 16 * 1024 * 1024,
  checkTimeoutMs: 120_000,
  compareModes: {
    'text-to-image': 'image',
    'image-to-image': 'image',
    upscale: 'image',
    'segment-anything-2': 'bytes',
    'image-to-video': 'bytes',
    'audio-to-text': 'text',
    llm: 'text',
    'image-to-text': 'text',
    'text-to-speech': 'bytes',
    'live-video-to-video': 'bytes',
    custom: 'none'
  },
  imageThreshold: 0.9,
  textThreshold: 0.8,
  excludeAfterFaults: 1,
  exclusionMs: 24 * 60 * 60_000
}
