import { Contract, Wallet, type JsonRpcProvider } from 'ethers'
import { startAnvil, type LocalChain } from '../../src/payments/chain/anvil.js'
import { TICKET_BROKER_ABI } from '../../src/payments/chain/abi.js'
import { deployTicketBroker, type Deployment } from '../../src/payments/chain/deploy.js'
import { createProvider } from '../../src/payments/chain/provider.js'
import { bytesToHex } from '../../src/payments/hex.js'
import { createTicketSigner, type TicketSigner } from '../../src/identity/ethereum.js'
import { MAX_WIN_PROB, recipientRandHash, ticketHash, type Ticket, type TicketDomain } from '../../src/payments/ticket.js'

/** A local chain with a freshly deployed TicketBroker, shared by the tests of one file. */
export interface ChainFixture {
  chain: LocalChain
  provider: JsonRpcProvider
  deployment: Deployment
  domain: TicketDomain
  /** one wallet per anvil account (index 0 deployed the broker) */
  wallets: Wallet[]
  /** the broker contract connected to wallets[i] */
  broker: (i: number) => Contract
  /** mines `n` empty blocks */
  mine: (n: number) => Promise<void>
  blockNumber: () => Promise<bigint>
  snapshot: () => Promise<string>
  revert: (id: string) => Promise<void>
  stop: () => Promise<void>
}

export async function startChainFixture (options: { unlockPeriodBlocks?: bigint, redeemWindowBlocks?: bigint, accounts?: number } = {}): Promise<ChainFixture> {
  const chain = await startAnvil({ accounts: options.accounts ?? 6 })
  try {
    const provider = await createProvider(chain.rpcUrl, { chainId: chain.chainId, pollingIntervalMs: 50 })
    const deployment = await deployTicketBroker({
      provider,
      privateKey: chain.accounts[0],
      unlockPeriodBlocks: options.unlockPeriodBlocks ?? 10n,
      redeemWindowBlocks: options.redeemWindowBlocks ?? 20n
    })
    const wallets = chain.accounts.map(k => new Wallet(k, provider))
    return {
      chain,
      provider,
      deployment,
      domain: { chainId: chain.chainId, broker: deployment.address },
      wallets,
      broker: (i) => new Contract(deployment.address, TICKET_BROKER_ABI, wallets[i]),
      mine: async (n) => { await provider.send('anvil_mine', [`0x${n.toString(16)}`]) },
      blockNumber: async () => BigInt(await provider.getBlockNumber()),
      snapshot: async () => await provider.send('evm_snapshot', []) as string,
      revert: async (id) => { await provider.send('evm_revert', [id]) },
      stop: async () => { provider.destroy(); await chain.stop() }
    }
  } catch (err) {
    await chain.stop()
    throw err
  }
}

/** A ticket signed off-chain, ready for the contract. */
export interface SignedFixtureTicket {
  ticket: Ticket
  sig: Uint8Array
  sigHex: string
  rand: bigint
  hash: string
  tuple: [string, string, bigint, bigint, bigint, string, bigint]
}

let nonce = 1n

export function makeTicket (opts: {
  signer: TicketSigner | string
  recipient: string
  domain: TicketDomain
  faceValue?: bigint
  winProb?: bigint
  rand?: bigint
  expirationBlock?: bigint
  senderNonce?: bigint
  sender?: string
}): SignedFixtureTicket {
  const signer = typeof opts.signer === 'string' ? createTicketSigner(opts.signer) : opts.signer
  const rand = opts.rand ?? BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`)
  const ticket: Ticket = {
    recipient: opts.recipient.toLowerCase(),
    sender: (opts.sender ?? signer.address).toLowerCase(),
    faceValue: opts.faceValue ?? 10n ** 16n,
    winProb: opts.winProb ?? MAX_WIN_PROB,
    senderNonce: opts.senderNonce ?? nonce++,
    recipientRandHash: recipientRandHash(rand),
    expirationBlock: opts.expirationBlock ?? 1_000_000n
  }
  const h = ticketHash(ticket, opts.domain)
  const sig = signer.sign(h)
  return {
    ticket,
    sig,
    sigHex: bytesToHex(sig),
    rand,
    hash: bytesToHex(h),
    tuple: [ticket.recipient, ticket.sender, ticket.faceValue, ticket.winProb, ticket.senderNonce, ticket.recipientRandHash, ticket.expirationBlock]
  }
}
