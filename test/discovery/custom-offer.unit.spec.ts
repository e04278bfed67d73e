import { generateKeyPair } from '@libp2p/crypto/keys'
import { expect } from 'chai'
import { announcementMessage, checkAnnouncement, type ModelOffer } from '../../src/discovery/announcement.js'
import { PIPELINE_UNIT } from '../../src/kernel/pipelines.js'
import { announcementFor } from './helpers.js'

const custom: ModelOffer = {
  pipeline: 'custom',
  modelId: 'pow',
  warm: true,
  capacity: 2,
  load: 'available',
  pricePerUnit: '1000',
  pixelsPerUnit: '1000',
  unit: 'compute-ms',
  runnerVersion: 'command',
  description: 'a stream session',
  pricePerRequest: '2500',
  streaming: true
}

describe('discovery/announcement: what a custom capability offer carries', () => {
  it('its price per request and whether it serves stream sessions, through the wire form', async () => {
    const a = await announcementFor(await generateKeyPair('Ed25519'), { models: [custom] })
    expect(checkAnnouncement(announcementMessage(a)).models).to.deep.equal([custom])
    const { pricePerRequest, streaming, ...plain } = custom
    expect(checkAnnouncement(announcementMessage({ ...a, models: [plain] })).models).to.deep.equal([plain])
  })

  it('refuses them on another pipeline, and a price per request that is not a decimal', async () => {
    const key = await generateKeyPair('Ed25519')
    const llm = { pipeline: 'llm' as const, modelId: 'm', warm: true, capacity: 1, load: 'available' as const, pricePerUnit: '1', pixelsPerUnit: '1', unit: PIPELINE_UNIT.llm, runnerVersion: 'v' }
    for (const [offer, problem] of [
      [{ ...llm, streaming: true }, /models\[0\]\.streaming.*only for custom capabilities/],
      [{ ...llm, pricePerRequest: '1' }, /models\[0\]\.pricePerRequest.*only for custom capabilities/],
      [{ ...custom, pricePerRequest: '1.5' }, /models\[0\]\.pricePerRequest.*decimal integer/]
    ] as const) {
      const a = await announcementFor(key, { models: [offer as ModelOffer] })
      expect(() => checkAnnouncement(announcementMessage(a))).to.throw(problem)
    }
  })
})
