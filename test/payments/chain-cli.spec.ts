import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import yargs from 'yargs'
import { chainCommand } from '../../src/cli/commands/chain.js'
import { CliError } from '../../src/cli/errors.js'
import { loadOrCreateNodeKeys } from '../../src/p2p/keys.js'
import { createSqliteTicketStore, ticketStorePath } from '../../src/payments/store/sqlite-ticket-store.js'
import { makeTicket, startChainFixture, type ChainFixture } from './fixtures.js'

const ETH = 10n ** 18n

/** Runs `shoal chain ...` in-process (the command as registered with yargs) and returns what it printed. */
async function shoal (args: string[]): Promise<string> {
  let out = ''
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array) => { out += chunk.toString(); return true }) as typeof process.stdout.write
  try {
    await yargs(args).command(chainCommand).strict().demandCommand(1)
      .fail((msg, err) => { throw err ?? new CliError('CLI_ERROR_USAGE', msg) }).parseAsync()
  } finally {
    process.stdout.write = write
  }
  return out
}

describe('payments: `shoal chain` operations (anvil)', function () {
  this.timeout(30_000)
  let fx: ChainFixture
  let dataDir: string
  let common: string[]
  let address: string

  before(async () => {
    fx = await startChainFixture({ unlockPeriodBlocks: 5n })
    dataDir = mkdtempSync(join(tmpdir(), 'shoal-cli-'))
    const keys = await loadOrCreateNodeKeys(dataDir)
    address = keys.ethereum.address.toLowerCase()
    await fx.provider.send('anvil_setBalance', [address, `0x${(100n * ETH).toString(16)}`])
    common = ['--rpc-url', fx.chain.rpcUrl, '--broker', fx.deployment.address, '--data-dir', dataDir, '--json']
  })
  after(async () => {
    rmSync(dataDir, { recursive: true, force: true })
    await fx?.stop()
  })

  it('deposit and reserve fund the data dir\'s account; status shows them', async () => {
    const d = JSON.parse(await shoal(['chain', 'deposit', '1.5', ...common]))
    expect(d).to.include({ action: 'deposit', amountWei: (15n * ETH / 10n).toString() })
    expect(d.txHash).to.match(/^0x[0-9a-f]{64}$/)
    const r = JSON.parse(await shoal(['chain', 'reserve', '2000000000', '--unit', 'gwei', '--max-recipients', '4', ...common]))
    expect(r).to.include({ action: 'reserve', amountWei: (2n * ETH).toString(), maxRecipients: 4 })
    const s = JSON.parse(await shoal(['chain', 'status', ...common]))
    expect(s).to.include({ address, deposit: (15n * ETH / 10n).toString(), unlocking: false, chainId: '31337', broker: fx.deployment.address })
    expect(s.reserve).to.include({ funds: (2n * ETH).toString(), maxRecipients: 4 })
    expect(s.tickets).to.equal(null)
  })

  it('status lists the node\'s pending and redeemed winning tickets from its store', async () => {
    const store = createSqliteTicketStore(ticketStorePath(dataDir))
    const t = makeTicket({ signer: fx.wallets[1].privateKey, recipient: address, domain: fx.domain })
    store.addWinner({ ticketHash: t.hash, ticket: t.ticket, signature: t.sig, recipientRand: t.rand, domain: fx.domain, receivedAt: 1 })
    const u = makeTicket({ signer: fx.wallets[1].privateKey, recipient: address, domain: fx.domain })
    store.addWinner({ ticketHash: u.hash, ticket: u.ticket, signature: u.sig, recipientRand: u.rand, domain: fx.domain, receivedAt: 2 })
    store.markRedeemed(u.hash, { txHash: `0x${'12'.repeat(32)}`, paidWei: u.ticket.faceValue, at: 3 })
    store.close()
    const s = JSON.parse(await shoal(['chain', 'status', ...common]))
    expect(s.tickets.summary.pending).to.deep.equal({ count: 1, faceValue: t.ticket.faceValue.toString(), paidWei: '0' })
    expect(s.tickets.summary.redeemed.count).to.equal(1)
    expect(s.tickets.recent.map((w: { ticketHash: string }) => w.ticketHash)).to.deep.equal([u.hash, t.hash])
    const text = await shoal(['chain', 'status', ...common.slice(0, -1)])
    expect(text).to.match(/tickets: +pending 1 \(0\.01 ETH\), redeemed 1 \(0\.01 ETH paid\)/)
  })

  it('unlock, withdraw refused until the period is over, then withdraw pays everything back', async () => {
    const u = JSON.parse(await shoal(['chain', 'unlock', ...common]))
    expect(BigInt(u.withdrawBlock)).to.equal(BigInt(u.blockNumber) + 5n)
    try {
      await shoal(['chain', 'withdraw', ...common])
      expect.fail('withdrew early')
    } catch (err) {
      expect(err).to.be.instanceOf(CliError)
      expect((err as CliError).message).to.contain('UnlockPeriodNotOver')
    }
    await fx.mine(5)
    const w = JSON.parse(await shoal(['chain', 'withdraw', ...common]))
    expect(w).to.include({ deposit: (15n * ETH / 10n).toString(), reserve: (2n * ETH).toString() })
    const s = JSON.parse(await shoal(['chain', 'status', ...common]))
    expect(s).to.include({ deposit: '0', unlocking: false })
  })

  it('reads --eth-key and the SHOAL_* environment', async () => {
    process.env.SHOAL_RPC_URL = fx.chain.rpcUrl
    process.env.SHOAL_BROKER_ADDRESS = fx.deployment.address
    try {
      const s = JSON.parse(await shoal(['chain', 'status', '--eth-key', fx.wallets[3].privateKey, '--json']))
      expect(s.address).to.equal(fx.wallets[3].address.toLowerCase())
    } finally {
      delete process.env.SHOAL_RPC_URL
      delete process.env.SHOAL_BROKER_ADDRESS
    }
  })

  it('refuses missing configuration and bad amounts as CLI errors', async () => {
    const code = async (args: string[]): Promise<string> => {
      try { await shoal(args) } catch (err) { return (err as CliError).code }
      return 'none'
    }
    expect(await code(['chain', 'status', '--data-dir', dataDir])).to.equal('CLI_ERROR_CONFIG')
    expect(await code(['chain', 'status', '--rpc-url', fx.chain.rpcUrl, '--broker', '0x1234', '--data-dir', dataDir])).to.equal('CLI_ERROR_CONFIG')
    expect(await code(['chain', 'deposit', '-1', ...common])).to.equal('CLI_ERROR_USAGE')
    expect(await code(['chain', 'deposit', 'lots', ...common])).to.equal('CLI_ERROR_USAGE')
    expect(await code(['chain', 'status', '--eth-key', '0x12', ...common])).to.equal('CLI_ERROR_KEYS')
    expect(await code(['chain', 'status', '--rpc-url', fx.chain.rpcUrl, '--broker', fx.wallets[4].address, '--data-dir', dataDir])).to.equal('CLI_ERROR_CONFIG')
  })
})
