import { expect } from 'chai'
import type net from 'node:net'
import { silentLogger } from '../../../src/observability/logger.js'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../src/gateway/http/server.js'
import { MAX_FIELD_NAME_BYTES, MAX_FIELDS, MAX_FILES, MAX_PARTS } from '../../../src/gateway/http/multipart.js'
import type { InferenceJob, RunnerResponse } from '../../../src/kernel/job.js'
import { png, wav } from './media.js'
import { exchange } from './raw-client.js'

const boundary = 'bNd'
const BODY_LIMIT = 256 * 1024

type Part = Buffer
const text = (name: string, value: string): Part => Buffer.from(`Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`)
const file = (name: string, data: Buffer | string, type = 'image/png'): Part =>
  Buffer.concat([Buffer.from(`Content-Disposition: form-data; name="${name}"; filename="f"\r\nContent-Type: ${type}\r\n\r\n`), Buffer.from(data)])
function body (parts: Part[]): Buffer {
  return Buffer.concat([...parts.flatMap(p => [Buffer.from(`--${boundary}\r\n`), p, Buffer.from('\r\n')]), Buffer.from(`--${boundary}--\r\n`)])
}
function post (path: string, bytes: Buffer): (s: net.Socket) => void {
  return s => {
    s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${bytes.byteLength}\r\n\r\n`)
    s.write(bytes)
  }
}

/** A route taking multipart, with the parts of a request it accepts (the bounds are tested on top of them). */
interface Route {
  path: string
  valid: () => Promise<Part[]>
  /** a part of a field the route does not take */
  unknown: Part
  /** the JSON shape of its errors */
  shape: 'pipeline' | 'openai'
}

const ROUTES: Route[] = [
  { path: '/upscale', valid: async () => [text('prompt', 'x'), file('image', await png(4, 4))], unknown: file('not_a_field', 'junk'), shape: 'pipeline' },
  { path: '/v1/images/edits', valid: async () => [text('prompt', 'x'), file('image', await png(4, 4))], unknown: text('not_a_field', 'junk'), shape: 'openai' },
  { path: '/v1/audio/transcriptions', valid: async () => [file('file', wav(), 'audio/wav')], unknown: file('not_a_field', 'junk'), shape: 'openai' }
]

const encoder = new TextEncoder()
function answerFor (job: InferenceJob): string {
  if (job.pipeline === 'audio-to-text') return JSON.stringify({ text: 'heard', chunks: [] })
  return JSON.stringify({ images: [{ url: 'data:image/png;base64,AA==', seed: 1, nsfw: false }] })
}

/**
 * The one bounded multipart reader behind the pipeline routes and the OpenAI routes:
 * each bound (parts, fields, files, field-name size, body size) and the per-route field
 * policy, over real sockets against a real gateway server.
 */
describe('gateway http: one bounded multipart reader for the pipeline and OpenAI routes', function () {
  this.timeout(60_000)
  let server: GatewayHttpServer
  let url: string
  const jobs: InferenceJob[] = []

  before(async () => {
    server = createGatewayHttpServer({
      dispatcher: {
        dispatch: async (job: InferenceJob) => {
          jobs.push(job)
          return {
            response: { status: 200, contentType: 'application/json', body: (async function * () { yield encoder.encode(answerFor(job)) })() } satisfies RunnerResponse,
            orchestrator: 'p',
            attempts: [{ peerId: 'p', outcome: 'success', ms: 1 }]
          }
        }
      },
      directory: { list: () => [] },
      options: { host: '127.0.0.1', port: 0, bodyLimitBytes: BODY_LIMIT, maxFieldBytes: 16 * 1024 },
      logger: silentLogger(),
      metrics: null
    })
    await server.start()
    url = server.address?.url ?? ''
  })

  after(async () => { await server?.stop() })

  async function send (path: string, parts: Part[]): Promise<{ status: number, json: Record<string, unknown> }> {
    const answer = await exchange(url, post(path, body(parts)), 15_000)
    answer.socket.destroy()
    return { status: answer.status, json: JSON.parse(answer.body) as Record<string, unknown> }
  }

  /** the limit a 413 names, in either shape */
  function limitOf (route: Route, json: Record<string, unknown>): string {
    const error = json.error as { limit?: string, message?: string, type?: string }
    if (route.shape === 'pipeline') return error.limit ?? ''
    expect(error.type).to.equal('invalid_request_error')
    return /\b(max\w+|bodyLimitBytes)\b/.exec(error.message ?? '')?.[1] ?? ''
  }

  for (const route of ROUTES) {
    describe(route.path, () => {
      it('a request within the bounds is served', async () => {
        const before = jobs.length
        const { status } = await send(route.path, await route.valid())
        expect(status).to.equal(200)
        expect(jobs.length).to.equal(before + 1)
      })

      it(`more than ${MAX_PARTS} parts: 413 naming maxParts`, async () => {
        // fields and files each within their own bound, together over the part count
        const valid = await route.valid()
        const fileField = route.path.includes('audio') ? 'file' : route.shape === 'openai' ? 'image[]' : 'image'
        const files = Array.from({ length: MAX_FILES - 1 }, () => file(fileField, 'x'))
        const texts = Array.from({ length: MAX_PARTS + 1 - valid.length - files.length }, (_, i) => text('prompt', `p${i}`))
        expect(texts.length + 1).to.be.at.most(MAX_FIELDS)
        const { status, json } = await send(route.path, [...valid, ...files, ...texts])
        expect(status).to.equal(413)
        expect(limitOf(route, json)).to.equal('maxParts')
      })

      it(`more than ${MAX_FIELDS} text fields: 413 naming maxFields`, async () => {
        const { status, json } = await send(route.path, Array.from({ length: MAX_FIELDS + 1 }, () => text('prompt', 'x')))
        expect(status).to.equal(413)
        expect(limitOf(route, json)).to.equal('maxFields')
      })

      it(`a field name over ${MAX_FIELD_NAME_BYTES} bytes: 413 naming maxFieldNameBytes`, async () => {
        for (const part of [text('n'.repeat(MAX_FIELD_NAME_BYTES + 1), 'v'), file('f'.repeat(MAX_FIELD_NAME_BYTES + 1), 'v')]) {
          const { status, json } = await send(route.path, [part, ...await route.valid()])
          expect(status).to.equal(413)
          expect(limitOf(route, json)).to.equal('maxFieldNameBytes')
        }
      })

      it('a file over bodyLimitBytes: 413 naming bodyLimitBytes', async () => {
        const [first] = await route.valid()
        const big = route.path.includes('audio') ? file('file', Buffer.alloc(BODY_LIMIT + 1), 'audio/wav') : file('image', Buffer.alloc(BODY_LIMIT + 1))
        const { status, json } = await send(route.path, [first as Part, big])
        expect(status).to.equal(413)
        expect(limitOf(route, json)).to.equal('bodyLimitBytes')
      })

      if (route.shape === 'pipeline') {
        it('a field the pipeline does not take is read and dropped: the job goes without it', async () => {
          const before = jobs.length
          const { status } = await send(route.path, [route.unknown, ...await route.valid()])
          expect(status).to.equal(200)
          const job = jobs[before]
          expect(job?.inputs.map(i => i.field)).to.deep.equal(['image'])
          expect(Object.keys(job?.params ?? {})).to.not.include('not_a_field')
        })
      } else {
        it('a field the route does not take: 400 in OpenAI\'s shape naming it, nothing dispatched', async () => {
          const before = jobs.length
          const { status, json } = await send(route.path, [...await route.valid(), route.unknown])
          expect(status).to.equal(400)
          expect(json.error).to.deep.include({ type: 'invalid_request_error', param: 'not_a_field', code: 'unknown_parameter' })
          expect(jobs.length).to.equal(before)
        })
      }
    })
  }

  it('OpenAI\'s image[] keeps several files; the pipeline\'s image keeps the last one sent', async () => {
    const before = jobs.length
    const first = await png(4, 4)
    const second = await png(6, 6)
    const edits = await send('/v1/images/edits', [text('prompt', 'x'), file('image[]', first), file('image[]', second)])
    expect(edits.status).to.equal(200)
    expect(Buffer.from(jobs[before]?.inputs[0]?.data as Uint8Array).equals(first)).to.equal(true)
    const upscale = await send('/upscale', [text('prompt', 'x'), file('image', first), file('image', second)])
    expect(upscale.status).to.equal(200)
    expect(Buffer.from(jobs[before + 1]?.inputs[0]?.data as Uint8Array).equals(second)).to.equal(true)
  })
})
