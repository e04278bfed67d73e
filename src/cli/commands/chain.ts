import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { formatEther, parseUnits } from 'ethers'
import type { Argv, CommandModule } from 'yargs'
import { KeyFileError } from '../../p2p/errors.js'
import { loadNodeKeys } from '../../p2p/keys.js'
import { createChainOperations, type ChainOperations, type ChainStatus, type TxResult } from '../../payments/chain/operations.js'
import { createProvider } from '../../payments/chain/provider.js'
import { ChainError } from '../../payments/errors.js'
import { isAddress } from '../../payments/hex.js'
import { createSqliteTicketStore, ticketStorePath } from '../../payments/store/sqlite-ticket-store.js'
import { CliError } from '../errors.js'
import { defaultDataDir } from '../options/node.js'
import { commandSummary } from './index.js'

type Role = 'orchestrator' | 'gateway'
type Unit = 'eth' | 'gwei' | 'wei'

export interface ChainArgs {
  rpcUrl?: string
  broker?: string
  dataDir?: string
  ethKey?: string
  role: Role
  json: boolean
  unit: Unit
  amount?: string
  maxRecipients?: number
}

/**
 * The Ethereum key the command acts with: `--eth-key` / `SHOAL_ETH_KEY`, else the node's
 * own key from `<data-dir>/keys/ethereum.key` (`shoal keys init`).
 */
export async function resolveEthereumKey (args: { ethKey?: string, dataDir: string }): Promise<string> {
  const key = args.ethKey ?? process.env.SHOAL_ETH_KEY
  if (key !== undefined && key !== '') {
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new CliError('CLI_ERROR_KEYS', '--eth-key must be 0x followed by 64 hex digits')
    return key
  }
  try {
    return (await loadNodeKeys(args.dataDir)).ethereum.privateKey
  } catch (err) {
    if (err instanceof KeyFileError) throw new CliError('CLI_ERROR_KEYS', `${err.message} (or pass --eth-key)`)
    throw err
  }
}

interface Context { ops: ChainOperations, dataDir: string, close: () => void }

async function open (args: ChainArgs, withStore: boolean): Promise<Context> {
  const rpcUrl = args.rpcUrl ?? process.env.SHOAL_RPC_URL
  const broker = args.broker ?? process.env.SHOAL_BROKER_ADDRESS
  const dataDir = resolve(args.dataDir ?? process.env.SHOAL_DATA_DIR ?? defaultDataDir(args.role))
  if (rpcUrl === undefined || rpcUrl === '') throw new CliError('CLI_ERROR_CONFIG', 'no RPC URL: pass --rpc-url or set SHOAL_RPC_URL')
  if (broker === undefined || !isAddress(broker)) throw new CliError('CLI_ERROR_CONFIG', 'no TicketBroker address: pass --broker 0x... or set SHOAL_BROKER_ADDRESS')
  const privateKey = await resolveEthereumKey({ ethKey: args.ethKey, dataDir })
  let provider
  try {
    provider = await createProvider(rpcUrl, { connectTimeoutMs: 5000, pollingIntervalMs: 500 })
  } catch (err) {
    throw new CliError('CLI_ERROR_RUNTIME', `cannot reach ${rpcUrl}: ${(err as Error).message}`)
  }
  const storePath = ticketStorePath(dataDir)
  const store = withStore && existsSync(storePath) ? createSqliteTicketStore(storePath) : null
  return {
    ops: createChainOperations({ provider, broker, privateKey, store }),
    dataDir,
    close: () => { store?.close(); provider.destroy() }
  }
}

function amountWei (args: ChainArgs): bigint {
  try {
    const wei = parseUnits(String(args.amount), args.unit === 'eth' ? 'ether' : args.unit)
    if (wei <= 0n) throw new Error('not positive')
    return wei
  } catch {
    throw new CliError('CLI_ERROR_USAGE', `"${args.amount}" is not a positive amount of ${args.unit}`)
  }
}

function jsonable (value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`
    return v
  }))
}

function print (args: ChainArgs, value: Record<string, unknown>, human: string): void {
  process.stdout.write(args.json ? `${JSON.stringify(jsonable(value))}\n` : `${human}\n`)
}

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`

function txLine (r: TxResult): string {
  return `tx ${r.txHash} (block ${r.blockNumber}, fee ${eth(r.feeWei)})`
}

function statusText (s: ChainStatus): string {
  const lines = [
    `account:        ${s.address}`,
    `chain:          ${s.chainId}, block ${s.blockNumber}`,
    `broker:         ${s.broker} (unlock period ${s.unlockPeriod} blocks, redeem window ${s.redeemWindow} blocks)`,
    `wallet:         ${eth(s.walletBalance)}`,
    `deposit:        ${eth(s.deposit)}`,
    `reserve:        ${eth(s.reserve.funds)} shared by up to ${s.reserve.maxRecipients} recipients${s.reserve.frozen ? ` (claims open since ${eth(s.reserve.allocBase)}, epoch ${s.reserve.epoch})` : ''}`,
    `unlock:         ${s.unlocking ? `unlocking; withdraw from block ${s.withdrawBlock}${s.withdrawable ? ' (now)' : ''}` : 'locked (not unlocking)'}`
  ]
  if (s.tickets === null) {
    lines.push('tickets:        no winning-ticket store in this data dir')
  } else {
    const t = s.tickets.summary
    lines.push(`tickets:        pending ${t.pending.count} (${eth(t.pending.faceValue)}), redeemed ${t.redeemed.count} (${eth(t.redeemed.paidWei)} paid), failed ${t.failed.count}, expired ${t.expired.count}`)
    for (const w of s.tickets.recent) {
      lines.push(`  ${w.ticketHash} ${w.status.padEnd(8)} ${eth(w.ticket.faceValue)} from ${w.ticket.sender}${w.txHash !== null ? ` tx ${w.txHash}` : ''}${w.lastError !== null && w.status !== 'redeemed' ? ` (${w.lastError})` : ''}`)
    }
  }
  return lines.join('\n')
}

async function run (args: ChainArgs, withStore: boolean, fn: (ctx: Context) => Promise<void>): Promise<void> {
  const ctx = await open(args, withStore)
  try {
    await fn(ctx)
  } catch (err) {
    if (err instanceof ChainError) {
      const reason = typeof err.details?.reason === 'string' ? err.details.reason : undefined
      throw new CliError(err.code === 'CHAIN_ERROR_CONFIG' ? 'CLI_ERROR_CONFIG' : 'CLI_ERROR_RUNTIME', reason !== undefined ? `${err.message}` : err.message)
    }
    throw err
  } finally {
    ctx.close()
  }
}

/** yargs' inferred argument types do not follow nested commands: one cast, here */
const A = (args: unknown): ChainArgs => args as ChainArgs

/** `<amount>` and its `--unit`: only the commands that move an amount take them. */
const amountArg = (y: Argv): Argv => y.positional('amount', { type: 'string', demandOption: true, describe: 'how much (in --unit)' })
  .option('unit', { choices: ['eth', 'gwei', 'wei'] as const, default: 'eth' as Unit, describe: 'unit of <amount>', group: 'Chain:' })

export const chainCommand: CommandModule<object, ChainArgs> = {
  ...commandSummary('chain'),
  builder: (y) => y
    .option('rpc-url', { type: 'string', describe: 'Ethereum JSON-RPC URL [env SHOAL_RPC_URL]', group: 'Chain:' })
    .option('broker', { type: 'string', describe: 'TicketBroker contract address [env SHOAL_BROKER_ADDRESS]', group: 'Chain:' })
    .option('data-dir', { type: 'string', describe: 'node data directory: its Ethereum key and ticket store [env SHOAL_DATA_DIR, default ~/.shoal/<role>]', group: 'Chain:' })
    .option('eth-key', { type: 'string', describe: 'act with this 0x private key instead of the data dir\'s [env SHOAL_ETH_KEY]', group: 'Chain:' })
    .option('role', { choices: ['orchestrator', 'gateway'] as const, default: 'gateway' as Role, describe: 'picks the default data directory', group: 'Chain:' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON (amounts in wei, as strings)' })
    .command('deposit <amount>', 'add to the deposit that pays winning tickets', amountArg, async (args) => {
      await run(A(args), false, async ({ ops }) => {
        const wei = amountWei(A(args))
        const r = await ops.deposit(wei)
        print(A(args), { action: 'deposit', amountWei: wei, ...r }, `deposited ${eth(wei)}: ${txLine(r)}`)
      })
    })
    .command('reserve <amount>', 'add to the reserve that backs recipients when the deposit runs out', (yy) => amountArg(yy)
      .option('max-recipients', { type: 'number', default: 10, describe: 'how many recipients share the reserve: each may claim reserve / N' }),
    async (args) => {
      const a = A(args)
      const n = a.maxRecipients ?? 10
      if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new CliError('CLI_ERROR_USAGE', '--max-recipients must be a positive integer')
      await run(a, false, async ({ ops }) => {
        const wei = amountWei(a)
        const r = await ops.reserve(wei, n)
        print(a, { action: 'reserve', amountWei: wei, maxRecipients: n, ...r }, `added ${eth(wei)} to the reserve (shared by up to ${n} recipients): ${txLine(r)}`)
      })
    })
    .command('unlock', 'start the unlock period; withdraw when it is over', (yy) => yy, async (args) => {
      await run(A(args), false, async ({ ops }) => {
        const r = await ops.unlock()
        print(A(args), { action: 'unlock', ...r }, `unlocking: withdraw from block ${r.withdrawBlock}; ${txLine(r)}`)
      })
    })
    .command('cancel-unlock', 'stop an unlock in progress', (yy) => yy, async (args) => {
      await run(A(args), false, async ({ ops }) => {
        const r = await ops.cancelUnlock()
        print(A(args), { action: 'cancel-unlock', ...r }, `unlock cancelled: ${txLine(r)}`)
      })
    })
    .command('withdraw', 'take the deposit and reserve back after the unlock period', (yy) => yy, async (args) => {
      await run(A(args), false, async ({ ops }) => {
        const r = await ops.withdraw()
        print(A(args), { action: 'withdraw', ...r }, `withdrew ${eth(r.deposit + r.reserve)} (deposit ${eth(r.deposit)}, reserve ${eth(r.reserve)}): ${txLine(r)}`)
      })
    })
    .command('status', 'balances, unlock state, and this node\'s pending and redeemed tickets', (yy) => yy, async (args) => {
      await run(A(args), true, async ({ ops }) => {
        const s = await ops.status()
        print(A(args), { ...s }, statusText(s))
      })
    })
    .command('bond <amount>', 'add to this orchestrator\'s bond (with --role orchestrator or its --data-dir): stake gateways can require and weigh selection by', amountArg, async (args) => {
      const a = A(args)
      await run(a, false, async ({ ops }) => {
        const wei = amountWei(a)
        const r = await ops.bond(wei)
        print(a, { action: 'bond', amountWei: wei, ...r }, `bonded ${eth(wei)} (bond now ${eth(r.bonded)}): ${txLine(r)}`)
      })
    })
    .command('unbond <amount>', 'take part of the bond out; it can be withdrawn after the unbonding delay', amountArg, async (args) => {
      const a = A(args)
      await run(a, false, async ({ ops }) => {
        const wei = amountWei(a)
        const r = await ops.unbond(wei)
        print(a, { action: 'unbond', amountWei: wei, ...r }, `unbonding ${eth(wei)} (bond now ${eth(r.bonded)}); withdraw from block ${r.withdrawBlock}: ${txLine(r)}`)
      })
    })
    .command('withdraw-bond', 'take unbonded funds back once the delay is over', (yy) => yy, async (args) => {
      const a = A(args)
      await run(a, false, async ({ ops }) => {
        const r = await ops.withdrawBond()
        print(a, { action: 'withdraw-bond', ...r }, `withdrew ${eth(r.amount)} of unbonded stake: ${txLine(r)}`)
      })
    })
    .command('bond-status', 'this account\'s bond, what is unbonding and when it can be withdrawn', (yy) => yy, async (args) => {
      const a = A(args)
      await run(a, false, async ({ ops }) => {
        const b = await ops.bondStatus()
        print(a, { ...b }, `account ${b.address}: bonded ${eth(b.bonded)}, unbonding ${eth(b.unbonding)}${b.unbonding > 0n ? `, withdrawable from block ${b.withdrawBlock}${b.withdrawable ? ' (now)' : ''}` : ''}`)
      })
    })
    .demandCommand(1, 'Name a chain command: deposit, reserve, unlock, cancel-unlock, withdraw, status, bond, unbond, withdraw-bond, bond-status') as never,
  handler: () => {}
}
