/**
 * Issue 15, item 4: a gateway that requires a bond uses only bonded orchestrators, on a
 * real mesh with a real chain (anvil, the TicketBroker deployed, payments on): two
 * orchestrators serve the same model; one operator bonds with `shoal chain bond`; the
 * gateway runs with `--min-bond`. Every job goes to the bonded one, the other gets none,
 * and the directory shows which is bonded.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { parseEther } from 'ethers'
import { NOOP_MODEL_ID } from '../../src/cpu-runner/models/noop.js'
import { loadOrCreateNodeKeys } from '../../src/p2p/keys.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const run = promisify(execFile)
const MIN_BOND = parseEther('1')

describe('e2e: a gateway requiring a bond uses only bonded orchestrators', function () {
  this.timeout(240_000)
  let chain: TestnetChain | undefined
  let mesh: ProcessMesh | undefined
  let dataDir: string | undefined

  after(async () => {
    await mesh?.stop()
    await chain?.stop()
    if (dataDir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('the unbonded orchestrator gets no work; the bonded one all of it', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-stake-'))
    chain = await startTestnetChain({ blockTimeSec: 1 })
    // the operator of orchestrator 0 bonds 2 ETH with the CLI before joining
    const bondedDir = join(dataDir, 'orchestrator-0')
    const keys = await loadOrCreateNodeKeys(bondedDir)
    await chain.sendEth(keys.ethereum.address, parseEther('10'))
    const chainArgs = ['--data-dir', bondedDir, '--rpc-url', chain.rpcUrl, '--broker', chain.brokerAddress, '--json']
    const bonded = JSON.parse((await run(process.execPath, ['bin/shoal.js', 'chain', 'bond', '2', ...chainArgs])).stdout) as { action: string, bonded: string, txHash: string }
    expect(bonded).to.include({ action: 'bond', bonded: parseEther('2').toString() })
    const status = JSON.parse((await run(process.execPath, ['bin/shoal.js', 'chain', 'bond-status', ...chainArgs])).stdout) as { bonded: string, unbonding: string }
    expect(status).to.include({ bonded: parseEther('2').toString(), unbonding: '0' })

    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 2,
      models: () => [{ pipeline: 'text-to-image', model_id: NOOP_MODEL_ID, warm: true, capacity: 4, price_per_unit: '1', pixels_per_unit: '1' }],
      gatewayPort: 0,
      logLevel: 'info',
      payments: { chain, depositWei: parseEther('5'), reserveWei: parseEther('5') },
      extraArgs: { gateway: ['--min-bond', MIN_BOND.toString(), '--exploration-share', '0.5'] }
    })
    const m = mesh
    const [bondedPeer, unbondedPeer] = [m.orchestrators[0]?.peerId ?? '', m.orchestrators[1]?.peerId ?? '']
    // the gateway reads the bond on chain once it has the announcement
    await waitFor(async () => {
      const list = await (await fetch(`${m.gateway.url}/network/orchestrators`)).json() as Array<{ peerId: string, bonded: boolean }>
      return list.find(e => e.peerId === bondedPeer)?.bonded === true
    }, 30_000, 'the bonded orchestrator marked bonded')
    const list = await (await fetch(`${m.gateway.url}/network/orchestrators`)).json() as Array<{ peerId: string, bonded: boolean }>
    expect(list.find(e => e.peerId === unbondedPeer)?.bonded).to.equal(false)

    const served: string[] = []
    for (let i = 0; i < 16; i++) {
      const res = await fetch(`${m.gateway.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_id: NOOP_MODEL_ID, prompt: `bond ${i}`, width: 64, height: 64 }), signal: AbortSignal.timeout(30_000) })
      await res.arrayBuffer()
      expect(res.status).to.equal(200)
      served.push(res.headers.get('x-shoal-orchestrator') ?? '')
      // the unbonded one was not even tried
      expect(res.headers.get('x-shoal-tried') ?? '').to.not.include(unbondedPeer)
    }
    expect(new Set(served)).to.deep.equal(new Set([bondedPeer]))
  })
})
