import { randomBytes as nodeRandomBytes } from 'node:crypto'
import { createBalances, type BalancesOptions } from './balances.js'
import { cachedBroker, type Broker, type CachedBroker } from './broker.js'
import { systemClock, type Clock } from './clock.js'
import { normalizeAddress } from './hex.js'
import type { PaymentMetrics } from './metrics.js'
import { defaultRecipientOptions, type RecipientOptions } from './options.js'
import { createRecipientRand } from './recipient-rand.js'
import { createRecipient, type Recipient } from './recipient.js'
import { addressFromPrivateKey, createSignatureVerifier } from '../identity/ethereum.js'
import { createMemoryTicketStore, type TicketStore } from './ticket-store.js'
import { createTicketValidator } from './validator.js'

export interface PaymentRecipient extends Recipient {
  /** the broker reads are cached through; call `invalidateSender` when a sender says it funded */
  readonly broker: CachedBroker
  readonly store: TicketStore
}

export interface PaymentRecipientInit {
  /** the orchestrator's Ethereum address (tickets must name it) ... */
  address?: string
  /** ... or its key (only the address is used here; the broker holds the key that redeems) */
  privateKey?: string
  broker: Broker
  /** where winners go; default in memory (use the SQLite store in production) */
  store?: TicketStore
  /** HMAC secret for recipientRand; default random per process (see recipient-rand.ts) */
  secret?: Uint8Array
  /** expected value per ticket, in wei (default 1e12) */
  ev?: bigint
  /** gas per redemption for the face value (default 150k) */
  redeemGas?: bigint
  /** fixed gas price in wei instead of the chain's */
  gasPrice?: bigint
  options?: Partial<RecipientOptions>
  balances?: BalancesOptions
  clock?: Clock
  randomBytes?: (length: number) => Uint8Array
  metrics?: PaymentMetrics | null
}

/** The orchestrator's payments, wired with defaults. */
export function createPaymentRecipient (init: PaymentRecipientInit): PaymentRecipient {
  const address = init.address !== undefined
    ? normalizeAddress(init.address)
    : init.privateKey !== undefined ? addressFromPrivateKey(init.privateKey) : undefined
  if (address === undefined) throw new TypeError('createPaymentRecipient needs an address or a privateKey')
  const options: RecipientOptions = {
    ...defaultRecipientOptions,
    ...init.options,
    ...(init.ev !== undefined ? { ticketEV: init.ev } : {}),
    ...(init.redeemGas !== undefined ? { redeemGas: init.redeemGas } : {}),
    ...(init.gasPrice !== undefined ? { gasPrice: init.gasPrice } : {})
  }
  const clock = init.clock ?? systemClock
  const randomBytes = init.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n)))
  const broker = cachedBroker(init.broker, clock, { blockTtlMs: options.blockTtlMs, senderTtlMs: options.senderInfoTtlMs })
  const store = init.store ?? createMemoryTicketStore()
  const recipient = createRecipient({
    address,
    broker,
    store,
    validator: createTicketValidator({ verifier: createSignatureVerifier() }),
    rand: createRecipientRand({ secret: init.secret, randomBytes }),
    balances: createBalances(clock, init.balances),
    clock,
    metrics: init.metrics ?? null,
    options
  })
  return Object.assign(recipient, { broker, store })
}
