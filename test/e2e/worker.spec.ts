import { expect } from 'chai'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateNodeKeys } from '../../src/p2p/keys.js'
import { spawnShoal, type ShoalChild } from '../../src/testnet/child.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { decodeFirstImage, directory, pngOf, upscaleForm, waitFor } from './helpers.js'

const MODEL = 'upscalerjs/esrgan-slim-x2'

/**
 * An orchestrator with no runner of its own and a remote worker (`shoal worker`) that
 * dials it over libp2p, is allowed by peer id, registers an ESRGAN runner and serves a
 * job a client posted to the gateway.
 */
describe('e2e: a remote worker serves a job through the mesh', function () {
  this.timeout(180_000)
  let mesh: ProcessMesh
  let worker: ShoalChild
  let dataDir: string

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-worker-e2e-'))
    const workerDir = join(dataDir, 'worker')
    const workerKeys = await loadOrCreateNodeKeys(workerDir)
    const entry = { pipeline: 'upscale', model_id: MODEL, warm: true, capacity: 1, price_per_unit: '1', pixels_per_unit: '1' }
    const workerModels = join(dataDir, 'worker-models.json')
    await writeFile(workerModels, JSON.stringify([entry]))
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 1,
      models: () => [],
      gatewayPort: 0,
      announcementTtlMs: 4_000,
      extraArgs: {
        gateway: ['--default-model', `upscale=${MODEL}`],
        orchestrator: () => ['--worker-allow', workerKeys.peerId.toString(), '--worker-models', workerModels]
      }
    })
    const listening = await mesh.orchestrators[0].waitForEvent('listening')
    const address = (listening.addresses as string[])[0]
    worker = spawnShoal('worker', ['worker', '--data-dir', workerDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--orchestrator', address, '--ai-models', workerModels], { logFile: join(dataDir, 'worker.log') })
    await worker.waitForEvent('registered', { timeoutMs: 60_000 })
  })

  after(async () => {
    await worker?.stop()
    await mesh?.stop()
  })

  it('the orchestrator announces the worker\'s capacity, and a posted image is upscaled by the worker', async () => {
    await waitFor(async () => (await directory(mesh.gateway.url)).find(r => r.models.some(m => m.modelId === MODEL && m.capacity === 1)), 20_000, 'the worker capacity in the announcement')
    const res = await fetch(`${mesh.gateway.url}/upscale`, { method: 'POST', body: upscaleForm(await pngOf(24, 16)) })
    expect(res.status).to.equal(200)
    expect(res.headers.get('x-shoal-orchestrator')).to.equal(mesh.orchestrators[0].peerId)
    expect(await decodeFirstImage(await res.json() as { images: Array<{ url: string }> })).to.deep.equal({ width: 48, height: 32 })
  })

  it('when the worker goes away its capacity leaves the announcement', async () => {
    await worker.kill()
    await waitFor(async () => (await directory(mesh.gateway.url)).find(r => r.peerId === mesh.orchestrators[0].peerId && r.models.length === 0), 20_000, 'the capacity to disappear')
  })
})
