import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Contract } from 'ethers'
import { TICKET_BROKER_ABI } from '../../src/payments/chain/index.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { post } from '../helpers/custom-http.js'
import { waitFor } from './helpers.js'

/**
 * Paid custom capabilities run as processes (the docker/custom-example app, no Docker),
 * priced per second of compute and per request, through a real mesh on a local chain: a
 * request route and a stream session (data channel, update, stop, billed by the interval).
 * Every charge is checked to the wei, and the winning tickets settle on the TicketBroker.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const APP = join(ROOT, 'docker/custom-example/server.mjs')
const NAME = 'example'
/** face value = 150k redemption gas x 1 gwei x 100; every ticket wins (EV = face value) */
const FACE_VALUE = 150_000n * 1_000_000_000n * 100n
const PRICE_PER_SECOND = FACE_VALUE / 10n
const PRICE_PER_REQUEST = FACE_VALUE / 4n + 1n
const STREAM = 'pow'
/** a whole number of wei per millisecond: the sum of the intervals' fees is the fee of their sum */
const STREAM_PRICE_PER_SECOND = FACE_VALUE / 20n
const STREAM_PRICE_PER_REQUEST = FACE_VALUE / 8n

interface SseEvent { id?: string, event?: string, data: string, at: number }

/** Reads a Server-Sent Events answer as it arrives. */
function readSse (url: string): { events: SseEvent[], done: Promise<number>, close: () => void } {
  const events: SseEvent[] = []
  const controller = new AbortController()
  const done = new Promise<number>((resolve, reject) => {
    const req = request(url, { signal: controller.signal }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        for (let at = text.indexOf('\n\n'); at !== -1; at = text.indexOf('\n\n')) {
          const block = text.slice(0, at)
          text = text.slice(at + 2)
          const event: SseEvent = { data: '', at: Date.now() }
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ')
            const value = rest.join(': ')
            if (field === 'data') event.data += (event.data === '' ? '' : '\n') + value
            else if (field === 'id') event.id = value
            else if (field === 'event') event.event = value
          }
          events.push(event)
        }
      })
      res.on('end', () => { resolve(res.statusCode ?? 0) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
  return { events, done, close: () => { controller.abort() } }
}

async function json (url: string, init: RequestInit = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url, init)
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

async function scrape (url: string, name: string): Promise<bigint> {
  const text = await (await fetch(url)).text()
  return text.split('\n').filter(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((sum, l) => sum + BigInt(Math.round(Number(l.slice(l.lastIndexOf(' ') + 1)))), 0n)
}

describe('e2e: a paid custom capability (process runner): per second and per request, settled on-chain', function () {
  this.timeout(120_000)
  let chain: TestnetChain
  let mesh: ProcessMesh
  let url: string

  before(async function () {
    this.timeout(600_000)
    chain = await startTestnetChain({ blockTimeSec: 1 })
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-custom-paid-'))
    const file = join(dataDir, 'capabilities.json')
    await writeFile(file, JSON.stringify([{
      name: NAME,
      description: 'the custom-example app, paid',
      command: [process.execPath, APP],
      capacity: 2,
      price_per_second: PRICE_PER_SECOND.toString(),
      price_per_request: PRICE_PER_REQUEST.toString(),
      timeout_seconds: 30
    }, {
      name: STREAM,
      description: 'proof-of-work search, a stream session',
      command: [process.execPath, APP],
      streaming: true,
      capacity: 2,
      price_per_second: STREAM_PRICE_PER_SECOND.toString(),
      price_per_request: STREAM_PRICE_PER_REQUEST.toString(),
      timeout_seconds: 120
    }]))
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 1,
      models: () => [],
      gatewayPort: 0,
      payments: { chain, depositWei: 10n ** 19n, reserveWei: 10n ** 19n },
      extraArgs: {
        gateway: ['--max-ticket-ev', FACE_VALUE.toString()],
        orchestrator: () => ['--custom-capabilities', file, '--ticket-ev', FACE_VALUE.toString(), '--gas-price', '1000000000', '--metrics-port', '0', '--stream-payment-interval', '1000']
      }
    })
    url = mesh.gateway.url
    await waitFor(async () => {
      const { capabilities } = await (await fetch(`${url}/capabilities`)).json() as { capabilities: Array<{ name: string }> }
      return capabilities.some(c => c.name === NAME) && capabilities.some(c => c.name === STREAM) ? true : undefined
    }, 30_000, 'the capabilities listed')
  })
  after(async function () {
    this.timeout(60_000)
    await mesh?.stop()
    await chain?.stop()
  })

  it('a stream session: data as the app finds it, an update, billed by the interval, stopped; unknown sessions named', async () => {
    const metrics = mesh.orchestrators[0].metricsUrl!
    const debitedBefore = await scrape(metrics, 'shoal_payments_debited_wei_total')
    const livepeer = Buffer.from(JSON.stringify({ capability: STREAM, parameters: { enable_data_output: true } })).toString('base64')
    const started = await json(`${url}/process/stream/start`, { method: 'POST', headers: { livepeer, 'content-type': 'application/json' }, body: JSON.stringify({ prefix: 'a-', difficulty: 3 }) })
    expect(started.status, JSON.stringify(started.body)).to.equal(200)
    const id = String(started.body.stream_id)
    expect(started.body).to.deep.include({ capability: STREAM, orchestrator: mesh.orchestrators[0].peerId, data_url: `/process/stream/${id}/data`, whip_url: '' })

    const sse = readSse(`${url}${String(started.body.data_url)}`)
    try {
      const check = (e: SseEvent): { nonce: number, prefix: string, hash: string } => {
        const found = JSON.parse(e.data) as { nonce: number, prefix: string, hash: string, difficulty: number }
        // real work: each hash is the sha256 of the prefix and the nonce, with the zeros asked for
        expect(createHash('sha256').update(found.prefix + String(found.nonce)).digest('hex')).to.equal(found.hash)
        expect(found.hash.startsWith('000')).to.equal(true)
        return found
      }
      await waitFor(async () => sse.events.filter(e => e.event === undefined).length >= 3 ? true : undefined, 30_000, 'three results with the first params')
      const firstAt = sse.events[0].at
      expect(sse.events.slice(0, 3).map(e => check(e).prefix)).to.deep.equal(['a-', 'a-', 'a-'])
      expect(sse.events.map(e => e.id).slice(0, 3)).to.deep.equal(['0', '1', '2'])

      const updated = await json(`${url}/process/stream/${id}/update`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prefix: 'b-' }) })
      expect(updated.status).to.equal(200)
      expect(updated.body).to.deep.equal({ params: { prefix: 'b-', difficulty: 3 } })
      await waitFor(async () => sse.events.some(e => e.data.includes('"prefix":"b-"')) ? true : undefined, 30_000, 'a result with the new prefix')
      check(sse.events.find(e => e.data.includes('"prefix":"b-"'))!)
      // refused by the app: its own answer
      const refused = await json(`${url}/process/stream/${id}/update`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ difficulty: 99 }) })
      expect(refused.status).to.equal(400)
      expect(refused.body).to.deep.equal({ error: { message: 'difficulty must be an integer in [1, 6] (hex zeros)' } })

      // billed by the interval (1 s here) while it runs
      const running = await waitFor(async () => {
        const s = await json(`${url}/process/stream/${id}/status`)
        return Number(s.body.compute_ms) >= 1_000 ? s.body : undefined
      }, 20_000, 'an interval billed')
      expect(running.state).to.equal('running')
      expect(BigInt(String(running.charged_wei))).to.equal(STREAM_PRICE_PER_REQUEST + BigInt(Number(running.compute_ms)) * STREAM_PRICE_PER_SECOND / 1000n)

      const stopped = await json(`${url}/process/stream/${id}/stop`, { method: 'POST' })
      expect(stopped.status).to.equal(200)
      expect(stopped.body).to.deep.include({ state: 'stopped', reason: 'stopped by the client' })
      const computeMs = BigInt(Number(stopped.body.compute_ms))
      const charged = BigInt(String(stopped.body.charged_wei))
      expect(charged).to.equal(STREAM_PRICE_PER_REQUEST + computeMs * STREAM_PRICE_PER_SECOND / 1000n)
      expect(BigInt(String(stopped.body.paid_wei)) >= charged).to.equal(true)
      // the data channel ends with the session, saying so
      expect(await sse.done).to.equal(200)
      const end = sse.events.at(-1)!
      expect(end.event).to.equal('end')
      expect(JSON.parse(end.data)).to.deep.include({ state: 'stopped', compute_ms: Number(computeMs), charged_wei: charged.toString() })
      expect(end.at - firstAt).to.be.at.least(1_000)
      // the orchestrator debited exactly what the gateway counts (doubles: within their precision)
      const debited = await waitFor(async () => {
        const d = await scrape(metrics, 'shoal_payments_debited_wei_total') - debitedBefore
        return d > 0n ? d : undefined
      }, 5_000, 'the debit')
      expect(Number(debited)).to.be.closeTo(Number(charged), Number(charged) * 1e-12)
      console.log(`      stream session: ${sse.events.length - 1} results, ${computeMs} ms billed by the interval, ${charged} wei charged (${STREAM_PRICE_PER_REQUEST} of it per session)`)

      // a late reader of the ended session gets what is kept after a given id, then the end
      const replay = readSse(`${url}/process/stream/${id}/data?last_event_id=1`)
      expect(await replay.done).to.equal(200)
      // the gateway keeps the last 256 messages (keptMessages): a fast app may have found more
      const lastId = Number(sse.events.filter(e => e.event !== 'end').at(-1)!.id)
      expect(replay.events[0].id).to.equal(String(Math.max(2, lastId - 255)))
      expect(replay.events.at(-1)!.event).to.equal('end')

      const gone = await json(`${url}/process/stream/${id}/update`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      expect(gone.status).to.equal(409)
      expect(String((gone.body.error as { message: string }).message)).to.match(/is stopped: stopped by the client/)
      for (const [method, path] of [['GET', 'status'], ['GET', 'data'], ['POST', 'update'], ['POST', 'stop']]) {
        const unknown = await json(`${url}/process/stream/no-such-session/${path}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) })
        expect(unknown.status, path).to.equal(404)
        expect((unknown.body.error as { message: string }).message).to.match(/^no stream session "no-such-session"/)
      }
      const notStreaming = await json(`${url}/process/stream/start?capability=${NAME}`, { method: 'POST' })
      expect(notStreaming.status).to.equal(503)
      expect((notStreaming.body.error as { message: string }).message).to.match(/no orchestrator serves custom capability "example" as a stream/)
    } finally {
      sse.close()
      // a failed check must not leave the session running (and billing) into the next test
      await fetch(`${url}/process/stream/${id}/stop`, { method: 'POST' }).catch(() => {})
    }
  })

  it('lists and announces the price per request', async () => {
    const { capabilities } = await (await fetch(`${url}/capabilities`)).json() as { capabilities: Array<{ name: string, orchestrators: Array<{ price_per_second_wei: string, price_per_request_wei: string }> }> }
    const [listed] = capabilities.find(c => c.name === NAME)!.orchestrators
    expect(listed).to.deep.include({ price_per_second_wei: PRICE_PER_SECOND.toString(), price_per_request_wei: PRICE_PER_REQUEST.toString() })
    const rows = await (await fetch(`${url}/network/orchestrators`)).json() as Array<{ models: Array<{ pipeline: string, modelId: string, pricePerRequest?: string, streaming?: boolean }> }>
    const offers = rows.flatMap(r => r.models).filter(m => m.pipeline === 'custom').sort((a, b) => a.modelId.localeCompare(b.modelId))
    expect(offers.map(m => [m.modelId, m.pricePerRequest, m.streaming])).to.deep.equal([[NAME, PRICE_PER_REQUEST.toString(), undefined], [STREAM, STREAM_PRICE_PER_REQUEST.toString(), true]])
  })

  it('charges ceil(ms x price per second / 1000) + the price per request, to the wei, and the tickets settle on-chain', async () => {
    const debitedBefore = await scrape(mesh.orchestrators[0].metricsUrl!, 'shoal_payments_debited_wei_total')
    let charged = 0n
    for (let i = 0; i < 4; i++) {
      const res = await post(`${url}/capability/${NAME}/sleep?ms=300`, '', { 'x-shoal-timeout': '5' })
      expect(res.status, res.body.toString()).to.equal(200)
      const ms = BigInt(String(res.headers['x-shoal-compute-ms']))
      expect(Number(ms)).to.be.at.least(300).and.below(5_000)
      const wei = BigInt(String(res.headers['x-shoal-charged-wei']))
      expect(wei).to.equal((ms * PRICE_PER_SECOND + 999n) / 1000n + PRICE_PER_REQUEST)
      charged += wei
    }
    // an answer other than 2xx is not charged, the price per request included
    const refused = await post(`${url}/capability/${NAME}/sleep?ms=nope`, '', { 'x-shoal-timeout': '5' })
    expect(refused.status).to.equal(400)
    expect(refused.headers['x-shoal-charged-wei']).to.equal('0')

    const metrics = mesh.orchestrators[0].metricsUrl!
    const debited = await scrape(metrics, 'shoal_payments_debited_wei_total') - debitedBefore
    // Prometheus counters are doubles: equal to the wei charged within their precision
    expect(Number(debited)).to.be.closeTo(Number(charged), Number(charged) * 1e-12)
    const winners = await scrape(metrics, 'shoal_payments_winning_tickets_total')
    expect(Number(winners)).to.be.at.least(1)
    const broker = new Contract(chain.brokerAddress, TICKET_BROKER_ABI, chain.provider)
    const recipient = mesh.orchestrators[0].ethAddress.toLowerCase()
    const redeemed = await waitFor(async () => {
      const events = (await broker.queryFilter(broker.filters.WinningTicketRedeemed(), 0, 'latest'))
        .map(e => (e as unknown as { args: { recipient: string, faceValue: bigint } }).args)
        .filter(a => a.recipient.toLowerCase() === recipient)
      return BigInt(events.length) >= winners ? events : undefined
    }, 60_000, `${winners} redemptions on-chain`)
    const earned = redeemed.reduce((sum, e) => sum + e.faceValue, 0n)
    expect(earned).to.equal(FACE_VALUE * winners)
    expect(earned >= debited, `earned ${earned} >= debited ${debited}`).to.equal(true)
    console.log(`      ${charged} wei charged for 4 x 300 ms (${PRICE_PER_REQUEST} wei of it per request each); ${winners} winning tickets redeemed, ${earned} wei on-chain`)
  })
})
