/**
 * Issue 15, item 4: orchestrators that return wrong answers on a real mesh (a bootstrap,
 * four orchestrators and a gateway, each its own `shoal` process on loopback). Each
 * orchestrator serves text-to-image and llm through its own reference-shaped runner
 * (test/e2e/fixtures/cheating-runner.ts): orchestrator 0 answers images with a blank
 * PNG of the right size, orchestrator 1 answers text with made-up words, 2 and 3 are
 * honest. The gateway spot-checks half of the jobs. Each cheater must be caught within
 * a bounded number of jobs and then get no work; every answer carries a signed receipt
 * that `shoal receipt verify` accepts offline; the evidence is in the gateway's log.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { startProcessMesh, type ProcessMesh, type TestnetModelEntry } from '../../src/testnet/process-mesh.js'
import { startTestRunner, type TestRunner } from './fixtures/cheating-runner.js'
import { waitFor } from '../helpers/wait-for.js'

const run = promisify(execFile)
const IMAGE_MODEL = 'test/t2i'
const TEXT_MODEL = 'test/llm'
const RATE = 0.5
/** with 4 orchestrators and p = 0.5 a cheater is expected after a few jobs; this bound fails only on a broken check */
const MAX_JOBS = 60

async function counter (url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  return text.split('\n').filter(l => (l.startsWith(name + ' ') || l.startsWith(name + '{')) && want.every(w => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

describe('e2e: cheating orchestrators are caught by spot checks and get no more work', function () {
  this.timeout(180_000)
  let mesh: ProcessMesh | undefined
  let dataDir: string | undefined
  const runners: Array<{ image: TestRunner, text: TestRunner }> = []

  before(async function () {
    this.timeout(120_000)
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-misbehaviour-'))
    for (let i = 0; i < 4; i++) {
      runners.push({ image: await startTestRunner('text-to-image', IMAGE_MODEL, i === 0), text: await startTestRunner('llm', TEXT_MODEL, i === 1) })
    }
    const entry = (pipeline: string, modelId: string, url: string): TestnetModelEntry => ({ pipeline, model_id: modelId, warm: true, capacity: 4, price_per_unit: '1', pixels_per_unit: '1', url })
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 4,
      models: (i) => [entry('text-to-image', IMAGE_MODEL, runners[i]?.image.url ?? ''), entry('llm', TEXT_MODEL, runners[i]?.text.url ?? '')],
      gatewayPort: 0,
      logLevel: 'info',
      extraArgs: { gateway: ['--spot-check-rate', String(RATE), '--exploration-share', '0.5'] }
    })
  })

  after(async () => {
    await mesh?.stop()
    await Promise.all(runners.flatMap(r => [r.image.stop(), r.text.stop()]))
    if (dataDir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dataDir, { recursive: true, force: true })
  })

  async function post (path: string, body: unknown): Promise<{ status: number, orchestrator: string, receipt: string | null }> {
    const res = await fetch(`${mesh?.gateway.url ?? ''}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) })
    await res.arrayBuffer()
    return { status: res.status, orchestrator: res.headers.get('x-shoal-orchestrator') ?? '', receipt: res.headers.get('x-shoal-receipt') }
  }

  async function catchCheater (path: string, body: (i: number) => unknown, cheater: string, pipeline: string): Promise<number> {
    const url = mesh?.gateway.url ?? ''
    for (let i = 1; i <= MAX_JOBS; i++) {
      const res = await post(path, body(i))
      expect(res.status).to.equal(200)
      expect(res.receipt).to.be.a('string')
      // checks run after the answer: let the one in flight finish before counting
      await waitFor(async () => await counter(url, 'shoal_gateway_spot_check_jobs_total', { pipeline }) <= await counter(url, 'shoal_gateway_spot_checks_total', { pipeline }) + await counter(url, 'shoal_gateway_spot_check_jobs_total', { pipeline, role: 'referee' }), 30_000, 'spot checks in flight to finish')
      if (await counter(url, 'shoal_gateway_orchestrator_faults_total', { pipeline, kind: 'wrong_answer' }) >= 1) return i
    }
    throw new Error(`${cheater} not caught within ${MAX_JOBS} jobs`)
  }

  it('a blank-image cheater and a wrong-text cheater are each excluded within a bounded number of jobs', async () => {
    const m = mesh as ProcessMesh
    const url = m.gateway.url
    const [imageCheat, textCheat] = [m.orchestrators[0]?.peerId ?? '', m.orchestrators[1]?.peerId ?? '']

    const imageJobs = await catchCheater('/text-to-image', i => ({ model_id: IMAGE_MODEL, prompt: `a fox ${i}`, seed: i, width: 64, height: 48 }), imageCheat, 'text-to-image')
    const textJobs = await catchCheater('/llm', i => ({ model: TEXT_MODEL, messages: [{ role: 'user', content: `say the words ${i} please` }] }), textCheat, 'llm')
    expect(await counter(url, 'shoal_gateway_excluded_orchestrators')).to.equal(2)

    // the evidence: the gateway logged the disagreement with the receipts of every answer, naming the cheater
    const log = await readFile(join(dataDir ?? '', 'gateway.log'), 'utf8')
    const confirmed = log.split('\n').filter(l => l.includes('wrong answer confirmed')).map(l => JSON.parse(l) as { wrong: string, primary: { receipt?: { orchestrator: string } }, check: { receipt?: { orchestrator: string } }, referee?: { receipt?: unknown } })
    expect(confirmed.map(c => c.wrong).sort()).to.deep.equal([imageCheat, textCheat].sort())
    for (const c of confirmed) {
      expect(c.primary.receipt?.orchestrator).to.be.a('string')
      expect(c.check.receipt?.orchestrator).to.be.a('string')
      expect(c.referee?.receipt).to.not.equal(undefined)
    }

    // excluded: no more work for either, on any pipeline
    const served = [runners[0]?.image.requests(), runners[1]?.text.requests(), runners[0]?.text.requests(), runners[1]?.image.requests()]
    for (let i = 0; i < 12; i++) {
      const image = await post('/text-to-image', { model_id: IMAGE_MODEL, prompt: `after ${i}`, seed: 1000 + i, width: 64, height: 48 })
      const text = await post('/llm', { model: TEXT_MODEL, messages: [{ role: 'user', content: `after ${i}` }] })
      for (const res of [image, text]) {
        expect(res.status).to.equal(200)
        expect([imageCheat, textCheat]).to.not.include(res.orchestrator)
      }
    }
    expect([runners[0]?.image.requests(), runners[1]?.text.requests(), runners[0]?.text.requests(), runners[1]?.image.requests()]).to.deep.equal(served)

    // a receipt from a response header verifies offline against the orchestrator that answered
    const res = await post('/text-to-image', { model_id: IMAGE_MODEL, prompt: 'verify me', seed: 7, width: 64, height: 48 })
    const { stdout } = await run(process.execPath, ['bin/shoal.js', 'receipt', 'verify', res.receipt ?? '', '--orchestrator', res.orchestrator, '--json'])
    const verified = JSON.parse(stdout) as { valid: boolean, pipeline: string, modelId: string }
    expect(verified).to.include({ valid: true, pipeline: 'text-to-image', modelId: IMAGE_MODEL })
    // and not against another peer id
    const wrong = await run(process.execPath, ['bin/shoal.js', 'receipt', 'verify', res.receipt ?? '', '--orchestrator', imageCheat, '--json']).catch((err: { code: number, stdout: string }) => err)
    expect((wrong as { code: number }).code).to.equal(1)
    expect(JSON.parse((wrong as { stdout: string }).stdout)).to.include({ valid: false, code: 'RECEIPT_ERROR_WRONG_SIGNER' })
    console.log(`      caught after ${imageJobs} image jobs and ${textJobs} text jobs at p = ${RATE}`)
  })
})
