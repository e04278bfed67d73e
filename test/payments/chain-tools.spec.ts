import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAnvil } from '../../src/payments/chain/anvil.js'
import { findContractsRoot, loadTicketBrokerArtifact } from '../../src/payments/chain/compile.js'
import { ChainError } from '../../src/payments/errors.js'
import { addressFromPrivateKey } from '../../src/identity/ethereum.js'

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function exitedWithin (pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (alive(pid) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  return !alive(pid)
}

describe('payments: chain tooling', function () {
  this.timeout(30_000)

  describe('anvil', () => {
    it('starts on a free loopback port with funded keys, answers RPC, and stops by pid', async () => {
      const chain = await startAnvil({ accounts: 2 })
      try {
        expect(chain.rpcUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(chain.accounts).to.have.length(2)
        expect(chain.addresses[0]).to.equal(addressFromPrivateKey(chain.accounts[0]))
        const res = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [chain.addresses[1], 'latest'] }) })
        expect(BigInt(((await res.json()) as { result: string }).result)).to.equal(10000n * 10n ** 18n)
      } finally {
        await chain.stop()
      }
      expect(await exitedWithin(chain.pid, 3000)).to.equal(true)
      await chain.stop() // idempotent
    })

    it('two chains run side by side on different ports', async () => {
      const [a, b] = await Promise.all([startAnvil({ accounts: 1 }), startAnvil({ accounts: 1, chainId: 1337 })])
      try {
        expect(a.rpcUrl).to.not.equal(b.rpcUrl)
        expect(b.chainId).to.equal(1337n)
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    })

    it('aborting the signal stops the chain', async () => {
      const controller = new AbortController()
      const chain = await startAnvil({ accounts: 1, signal: controller.signal })
      controller.abort()
      expect(await exitedWithin(chain.pid, 3000)).to.equal(true)
    })

    it('an aborted start throws and leaves no process', async () => {
      try {
        await startAnvil({ signal: AbortSignal.abort() })
        expect.fail('started')
      } catch (err) {
        expect((err as Error).name).to.be.oneOf(['AbortError', 'ChainError'])
      }
    })

    it('a missing binary is a ChainError', async () => {
      try {
        await startAnvil({ binary: '/nonexistent/anvil' })
        expect.fail('started')
      } catch (err) {
        expect(err).to.be.instanceOf(ChainError)
        expect((err as ChainError).code).to.equal('CHAIN_ERROR_ANVIL')
      }
    })
  })

  describe('solc-js compile', () => {
    it('compiles contracts/TicketBroker.sol into a cache file, and reuses it while the source is unchanged', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'shoal-solc-'))
      try {
        const cacheFile = join(dir, 'TicketBroker.json')
        const root = findContractsRoot()
        const a = await loadTicketBrokerArtifact({ root, cacheFile })
        expect(a.bytecode).to.match(/^0x[0-9a-f]+$/)
        expect(a.compiler).to.match(/^0\.8\./)
        expect(a.abi.length).to.be.greaterThan(20)
        const cached = JSON.parse(readFileSync(cacheFile, 'utf8'))
        expect(cached.sourceHash).to.equal(a.sourceHash)
        const t0 = Date.now()
        const b = await loadTicketBrokerArtifact({ root, cacheFile })
        expect(Date.now() - t0).to.be.lessThan(500)
        expect(b.bytecode).to.equal(a.bytecode)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
})
