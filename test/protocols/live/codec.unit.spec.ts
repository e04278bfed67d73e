import { expect } from 'chai'
import { decodeLiveMessage, encodeLiveMessage, LIVE_LIMITS, LiveProtocolError, type LiveMessage } from '../../../src/protocols/live/index.js'
import { LiveFrame } from '../../../src/protocols/live/pb/live.js'
import { inspectSegment, isMpegTs } from '../../../src/protocols/live/mpegts.js'

describe('protocols/live: codec', () => {
  const messages: LiveMessage[] = [
    { type: 'start', start: { pipeline: 'live-video-to-video', modelId: 'm', params: '{"a":1}', streamId: 's', requestId: 'r', payment: new Uint8Array([1, 2]) } },
    { type: 'started', started: { pricePerUnit: '1', pixelsPerUnit: '1000', paymentIntervalMs: 5000 } },
    { type: 'input', segment: { seq: 3, data: new Uint8Array([0x47, 1]), width: 0, height: 0, frames: 0 } },
    { type: 'output', segment: { seq: 4, data: new Uint8Array([0x47]), width: 256, height: 256, frames: 30 } },
    { type: 'ack', ack: { seq: 7 } },
    { type: 'control', control: { params: '{"background":"#ff0000"}' } },
    { type: 'event', event: { json: '{"state":"ONLINE"}' } },
    { type: 'payment', payment: { balance: '12', pixels: 99 } },
    { type: 'close', close: { code: 'PAYMENT_REQUIRED', message: 'credit spent' } }
  ]
  for (const m of messages) {
    it(`round-trips ${m.type}`, () => {
      expect(decodeLiveMessage(encodeLiveMessage(m))).to.deep.equal(m)
    })
  }

  const bad: Array<[string, Uint8Array]> = [
    ['no field', LiveFrame.encode({})],
    ['two fields', LiveFrame.encode({ ack: { seq: 1 }, control: { params: '{}' } })],
    ['params not an object', LiveFrame.encode({ control: { params: '[1]' } })],
    ['params not JSON', LiveFrame.encode({ start: { pipeline: 'p', modelId: 'm', params: '{', streamId: 's', requestId: 'r' } })],
    ['an empty segment', LiveFrame.encode({ input: { seq: 0, data: new Uint8Array(0), width: 0, height: 0, frames: 0 } })],
    ['a model id too long', LiveFrame.encode({ start: { pipeline: 'p', modelId: 'x'.repeat(LIVE_LIMITS.maxStringBytes + 1), params: '{}', streamId: 's', requestId: 'r' } })],
    ['garbage', new Uint8Array([0xff, 0xff, 0xff])]
  ]
  for (const [name, bytes] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => decodeLiveMessage(bytes)).to.throw(LiveProtocolError).with.property('code', 'LIVE_PROTOCOL_ERROR_MALFORMED_FRAME')
    })
  }

  it('maps an unknown close code to INTERNAL', () => {
    const m = decodeLiveMessage(LiveFrame.encode({ close: { code: 'WHATEVER', message: '' } }))
    expect(m).to.deep.equal({ type: 'close', close: { code: 'INTERNAL', message: '' } })
  })
})

describe('protocols/live: MPEG-TS inspection', () => {
  it('refuses what is not MPEG-TS', () => {
    expect(isMpegTs(Buffer.from('not video at all'))).to.equal(false)
    expect(inspectSegment(Buffer.alloc(188 * 3))).to.equal(undefined)
  })
})
