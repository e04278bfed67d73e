/**
 * bench/memory: the orchestrator's resident memory under unfinished uploads (issue 10).
 *
 * A real `shoal orchestrator` process (built `dist/`, a `shoal/noop` upscale runner,
 * payments off, its default input budgets unless SHOAL_* env or extra args say
 * otherwise) and a hostile peer built with the project's node factory, in this process.
 * The peer opens STREAMS `/shoal/ai` streams, each declaring SIZE MB of input and
 * sending all of it but the last byte, never InputEnd; then it leaves (its node stops).
 * BENCH_PEERS=N spreads the streams over N peers (to reach the node-wide budget).
 *
 * Reported: the orchestrator's RSS (from /proc, the orchestrator process alone, not its
 * runner) at baseline (after one real job), its peak while the uploads sit unfinished,
 * and how long after the peer left it took to come back within 64 MB of baseline;
 * what each stream was answered (Final code or reset); and that a real job still
 * succeeds afterwards. The load average is printed beside them.
 *
 *   npm run build && npx tsx bench/memory/index.ts [STREAMS=5] [SIZE_MB=200] [extra orchestrator args...]
 */
import '../../src/p2p/polyfill.js'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createShoalNode } from '../../src/p2p/node.js'
import { createAiClient } from '../../src/protocols/ai/index.js'
import { spawnShoal } from '../../src/testnet/child.js'
import { RawAiStream, type ServerAnswer } from '../../test/protocols/ai/hostile-peer.js'

const MB = 1_000_000
const STREAMS = Number(process.argv[2] ?? 5)
const SIZE = Number(process.argv[3] ?? 200) * MB
const EXTRA_ARGS = process.argv.slice(4)
/** hostile peers the streams are spread over (one peer by default, as in the issue) */
const PEERS = Number(process.env.BENCH_PEERS ?? 1)
const BACK_NEAR_BYTES = 64 * 1024 * 1024
const SETTLE_TIMEOUT_MS = 60_000

async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN)
  return kb * 1024
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024)

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-memory-'))
  const modelsPath = join(dir, 'aiModels.json')
  await writeFile(modelsPath, JSON.stringify([{ pipeline: 'upscale', model_id: 'shoal/noop', warm: true, capacity: 4 }]))
  const orchestrator = spawnShoal('orchestrator', [
    'orchestrator', '--data-dir', dir, '--ai-models', modelsPath, '--payments', 'off',
    '--listen', '/ip4/127.0.0.1/tcp/0', '--address-scope', 'private', '--log-level', process.env.BENCH_LOG_LEVEL ?? 'warn', '--metrics-port', '0', ...EXTRA_ARGS
  ], { logFile: join(dir, 'orchestrator.log') })
  const nodes = await Promise.all(Array.from({ length: PEERS }, async () => await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })))
  const node = nodes[0]
  try {
    const listening = await orchestrator.waitForEvent('listening', { timeoutMs: 120_000 })
    const peerId = peerIdFromString(String(listening.peerId))
    const metricsUrl = String(listening.metrics)
    /** input bytes the orchestrator has taken off the wire (the sender's socket may still hold the rest) */
    const received = async (): Promise<number> => {
      const text = await (await fetch(metricsUrl)).text()
      return Number(/^shoal_ai_server_input_bytes_total (\d+)/m.exec(text)?.[1] ?? 0)
    }
    const address = multiaddr(`${(listening.addresses as string[])[0]}`)
    for (const n of nodes) { await n.start(); await n.dial(address) }
    const client = createAiClient({ dialProtocol: node.dialProtocol.bind(node) })
    const realJob = async (): Promise<string> => {
      const res = await client.runJob(peerId, { pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'x' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: new Uint8Array(1024) }] }, { deadlineMs: 30_000 })
      for await (const _ of res.body) { /* drain */ }
      await res.final
      return String(res.status)
    }
    await realJob()
    await new Promise(resolve => setTimeout(resolve, 1_000))
    const baseline = await rssOf(orchestrator.pid)

    let peak = baseline
    const sampler = setInterval(() => { void rssOf(orchestrator.pid).then(r => { peak = Math.max(peak, r) }, () => {}) }, 100)
    const started = performance.now()
    const answers: string[] = []
    const streams = await Promise.all(Array.from({ length: STREAMS }, async (_, i) => await RawAiStream.open(nodes[i % PEERS], peerId)))
    await Promise.all(streams.map(async (raw) => {
      const answered = raw.answer(600_000).then((a: ServerAnswer) => { answers.push(a.kind === 'final' ? `Final ${a.final.code}` : a.kind); return a })
      await raw.header({ pipeline: 'upscale', modelId: 'shoal/noop', deadlineMs: 24 * 3600_000, inputs: [{ field: 'image', filename: 'big.png', contentType: 'image/png', size: SIZE }] })
      // all but the last byte; the server may answer (and drop or reset) before the end
      await Promise.race([raw.input(SIZE - 1).catch((err: Error) => { console.error('upload ended:', err.message) }), answered])
    }))
    // sending returns once the bytes are queued locally: wait until the orchestrator stops taking more
    let taken = await received()
    for (let still = 0; still < 8;) {
      await new Promise(resolve => setTimeout(resolve, 250))
      const now = await received()
      still = now === taken ? still + 1 : 0
      taken = now
    }
    const uploadMs = performance.now() - started
    const held = await rssOf(orchestrator.pid)
    clearInterval(sampler)
    const answeredBeforeLeaving = answers.length

    // the peer leaves
    const left = performance.now()
    for (const raw of streams) raw.reset()
    await Promise.all(nodes.map(async n => { await n.stop() }))
    let settleMs: number | null = null
    let last = held
    while (performance.now() - left < SETTLE_TIMEOUT_MS) {
      last = await rssOf(orchestrator.pid)
      if (last <= baseline + BACK_NEAR_BYTES) { settleMs = Math.round(performance.now() - left); break }
      await new Promise(resolve => setTimeout(resolve, 250))
    }

    // a real job still works (a fresh node: the old one stopped)
    const node2 = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await node2.start()
    await node2.dial(address)
    const client2 = createAiClient({ dialProtocol: node2.dialProtocol.bind(node2) })
    const res = await client2.runJob(peerId, { pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'x' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: new Uint8Array(1024) }] }, { deadlineMs: 30_000 })
    for await (const _ of res.body) { /* drain */ }
    await res.final
    await node2.stop()

    console.log(JSON.stringify({
      streams: STREAMS,
      peers: PEERS,
      declaredMB: SIZE / MB,
      orchestratorArgs: EXTRA_ARGS,
      baselineMiB: mb(baseline),
      peakMiB: mb(peak),
      heldMiB: mb(held),
      receivedMB: Math.round(taken / MB),
      uploadMs: Math.round(uploadMs),
      answersWhileConnected: answers.slice(0, answeredBeforeLeaving),
      afterLeaveMiB: mb(last),
      backWithin64MiBMs: settleMs,
      realJobAfter: res.status,
      loadavg: loadavg().map(l => Math.round(l * 100) / 100)
    }, null, 2))
  } finally {
    for (const n of nodes) await Promise.resolve(n.stop()).catch(() => {})
    await orchestrator.stop()
    if (process.env.BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true })
    else console.error('kept', dir)
  }
}

await main()
