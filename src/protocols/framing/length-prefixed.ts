import type { AbortOptions, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

/** How a length-prefixed read failed: a frame over the stream's limit, or the stream ended or was reset. */
export type ReadFailure = 'too-large' | 'ended'

/** it-length-prefixed's errors (by name) for a length prefix or a frame over the limit */
const TOO_LARGE = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])

/**
 * The next frame of a length-prefixed stream. A failed read throws what `fail` makes of
 * it ('too-large' or 'ended', with the cause); an aborted one, the signal's reason.
 */
export async function readFrame (lp: LengthPrefixedStream<Stream>, options: AbortOptions, fail: (failure: ReadFailure, cause: Error) => Error): ReturnType<LengthPrefixedStream<Stream>['read']> {
  try {
    return await lp.read(options)
  } catch (err) {
    if (options.signal?.aborted === true) throw options.signal.reason
    throw fail(TOO_LARGE.has((err as Error).name) ? 'too-large' : 'ended', err as Error)
  }
}
