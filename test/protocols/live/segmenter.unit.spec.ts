import { expect } from 'chai'
import { MpegTsError } from '../../../src/protocols/live/errors.js'
import { inspectSegment } from '../../../src/protocols/live/mpegts.js'
import { TsSegmenter } from '../../../src/protocols/live/segmenter.js'
import { TINY_SEGMENT, TINY_SEGMENT_INFO } from './tiny-segment.js'

/** Every segment of `stream` fed in chunks of `chunk` bytes. */
function cut (stream: Uint8Array, chunk: number, options: ConstructorParameters<typeof TsSegmenter>[0]): Uint8Array[] {
  const segmenter = new TsSegmenter(options)
  const out: Uint8Array[] = []
  for (let at = 0; at < stream.length; at += chunk) out.push(...segmenter.push(stream.subarray(at, at + chunk)))
  const last = segmenter.end()
  if (last !== undefined) out.push(last)
  return out
}

describe('protocols/live: cutting an MPEG-TS stream into live segments', () => {
  // three streams back to back: a key frame every 2 frames, timestamps starting again each time
  const stream = Buffer.concat([TINY_SEGMENT, TINY_SEGMENT, TINY_SEGMENT])

  it('cuts at key frames, whatever the chunk sizes, into segments that each carry PAT, PMT and whole frames', () => {
    for (const chunk of [stream.length, 188, 100, 1000, 7]) {
      const segments = cut(stream, chunk, { minSeconds: 0 })
      expect(segments, `chunks of ${chunk}`).to.have.length(3)
      for (const s of segments) expect(inspectSegment(s)).to.deep.equal(TINY_SEGMENT_INFO)
      expect(Buffer.concat(segments).length % 188).to.equal(0)
    }
  })

  it('keeps going past key frames until a segment holds minSeconds of video', () => {
    // one stream: 2 frames at 10 fps, the second not a key frame; 0.1 s apart
    const [only] = cut(TINY_SEGMENT, 188, { minSeconds: 1 })
    expect(inspectSegment(only)).to.deep.equal(TINY_SEGMENT_INFO)
  })

  it('refuses bytes that are not MPEG-TS, and a stream with no key frame within the size limit', () => {
    expect(() => new TsSegmenter().push(Buffer.alloc(376, 1))).to.throw(MpegTsError, /not MPEG-TS/)
    const err = (() => { try { cut(TINY_SEGMENT, 188, { maxBytes: 1000 }) } catch (e) { return e } })()
    expect(err).to.be.instanceOf(MpegTsError)
    expect((err as MpegTsError).code).to.equal('MPEGTS_ERROR_NO_KEY_FRAME')
  })
})
