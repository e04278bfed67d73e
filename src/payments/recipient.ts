import type { Balances } from './balances.js'
import type { AbortOptions, Broker } from './broker.js'
import type { Clock } from './clock.js'
import { PaymentError, TicketError, type TicketErrorCode } from './errors.js'
import { bytesToHex, normalizeAddress, ZERO_ADDRESS } from './hex.js'
import { weiToMetric, type PaymentMetrics } from './metrics.js'
import type { RecipientOptions } from './options.js'
import type { RecipientRand } from './recipient-rand.js'
import { ticketEV, ticketHashHex as ticketHashHexOf, ticketOf, winProbFor, type TicketBatch, type TicketParams } from './ticket.js'
import type { TicketStore } from './ticket-store.js'
import type { TicketValidator } from './validator.js'

/** What one accepted batch did. */
export interface ReceiveResult {
  /** EV credited to the sender by this batch, in wei */
  credited: bigint
  /** winning tickets stored (durably, before this result was returned) */
  winners: number
  /** tickets accepted */
  accepted: number
  /** the sender's balance after the credit */
  balance: bigint
}

/**
 * The orchestrator's side of payments (go-livepeer's Recipient plus its balances):
 * issues ticket params, validates and credits tickets, stores winners, and keeps each
 * sender's balance.
 */
export interface Recipient {
  /** lower-case address tickets must name */
  readonly address: string
  /**
   * Fresh params for `sender`: face value from the redemption gas cost (clamped to the
   * sender's max float), winProb from the ticket EV, a random seed, and an expiration
   * block. Throws TicketError (TICKET_ERROR_SENDER_UNLOCKING, TICKET_ERROR_SENDER_UNFUNDED)
   * or PaymentError (PAYMENT_ERROR_SENDER_MAX_FLOAT_TOO_LOW, PAYMENT_ERROR_BROKER_UNAVAILABLE).
   */
  ticketParams: (sender: string, options?: AbortOptions) => Promise<TicketParams>
  /**
   * Validates every ticket (sender funded and not unlocking, recipient, domain,
   * recipientRandHash, signature, nonce replay, expiry), credits each valid ticket's EV,
   * and stores winners before returning (a winner with expired params is kept but not
   * credited). When any ticket is refused, throws the first refusal as a TicketError
   * whose `details` hold `{ credited, winners, accepted, rejected }` for the rest.
   */
  receive: (batch: TicketBatch, options?: AbortOptions) => Promise<ReceiveResult>
  /** charges work to the sender's balance; returns the new balance (may go negative) */
  debit: (sender: string, wei: bigint) => bigint
  balance: (sender: string) => bigint
  /** throws PaymentError PAYMENT_ERROR_INSUFFICIENT_BALANCE when the sender's balance is below `wei` */
  requireBalance: (sender: string, wei: bigint) => void
}

export interface RecipientDeps {
  address: string
  /** a cached broker (see cachedBroker): receive() reads the block and the sender's state */
  broker: Broker
  store: TicketStore
  validator: TicketValidator
  rand: RecipientRand
  balances: Balances
  clock: Clock
  metrics: PaymentMetrics | null
  options: RecipientOptions
}

function addressOrThrow (value: string): string {
  try {
    return normalizeAddress(value)
  } catch {
    throw new TicketError('TICKET_ERROR_INVALID_SENDER', 'sender is not an address')
  }
}

interface NonceSet { nonces: Set<bigint>, expirationBlock: bigint }

export function createRecipient (deps: RecipientDeps): Recipient {
  const { address, broker, store, validator, rand, balances, clock, metrics, options } = deps
  const seen = new Map<string, NonceSet>()

  const prune = (currentBlock: bigint): void => {
    for (const [hash, set] of seen) {
      if (set.expirationBlock < currentBlock) seen.delete(hash)
    }
  }

  const readChain = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw new PaymentError('PAYMENT_ERROR_BROKER_UNAVAILABLE', `cannot read ${what} from the broker: ${(err as Error).message}`, undefined, { cause: err })
    }
  }

  const checkSender = async (sender: string, opts?: AbortOptions): Promise<void> => {
    const info = await readChain('sender info', async () => await broker.senderInfo(sender, opts))
    // the sender must not be on its way out: its funds may be gone before we redeem
    if (info.withdrawBlock !== 0n) {
      throw new TicketError('TICKET_ERROR_SENDER_UNLOCKING', `sender ${sender} is unlocking (withdraw at block ${info.withdrawBlock})`)
    }
    // ... and must have something to pay with
    if (info.deposit === 0n && info.reserve.funds === 0n) {
      throw new TicketError('TICKET_ERROR_SENDER_UNFUNDED', `sender ${sender} has no deposit and no reserve`)
    }
  }

  const count = (result: 'accepted' | TicketErrorCode, n = 1): void => {
    metrics?.ticketsReceived.inc({ result }, n)
  }

  return {
    address,

    async ticketParams (senderIn, opts) {
      try {
        const sender = addressOrThrow(senderIn)
        if (sender === ZERO_ADDRESS) throw new TicketError('TICKET_ERROR_INVALID_SENDER', 'sender is the zero address')
        await checkSender(sender, opts)
        const [config, block, claimable, info, gasPrice] = await Promise.all([
          readChain('broker config', async () => await broker.config(opts)),
          readChain('block number', async () => await broker.blockNumber(opts)),
          readChain('claimable reserve', async () => await broker.claimableReserve(sender, address, opts)),
          readChain('sender info', async () => await broker.senderInfo(sender, opts)),
          options.gasPrice !== undefined ? Promise.resolve(options.gasPrice) : readChain('gas price', async () => await broker.gasPrice(opts))
        ])
        const txCost = options.redeemGas * gasPrice
        // what this recipient can count on: its reserve share, minus winners it still has to redeem
        const guaranteed = claimable + (options.countDeposit ? info.deposit : 0n) - store.pendingFaceValue(sender, address)
        const maxFloat = guaranteed > 0n ? guaranteed : 0n
        let faceValue = txCost * options.txCostMultiplier
        if (faceValue < options.ticketEV) faceValue = options.ticketEV
        if (faceValue > maxFloat) faceValue = maxFloat
        // a win must at least pay for its own redemption, and one ticket must carry the EV
        if (faceValue <= txCost || faceValue < options.ticketEV) {
          throw new PaymentError('PAYMENT_ERROR_SENDER_MAX_FLOAT_TOO_LOW',
            `sender ${sender} can back at most ${maxFloat} wei for this recipient; a ticket needs more than ${txCost > options.ticketEV ? txCost : options.ticketEV}`,
            { maxFloat: maxFloat.toString(), txCost: txCost.toString() })
        }
        const winProb = winProbFor(options.ticketEV, faceValue)
        const seed = rand.newSeed()
        const expirationBlock = block + options.paramsExpirationBlocks
        const recipientRandHash = rand.randHash({ seed, sender, recipient: address, faceValue, winProb, expirationBlock, chainId: config.chainId, broker: config.broker })
        metrics?.paramsIssued.inc({ result: 'issued' })
        return { recipient: address, faceValue, winProb, recipientRandHash, seed, expirationBlock, chainId: config.chainId, broker: config.broker }
      } catch (err) {
        metrics?.paramsIssued.inc({ result: 'refused' })
        throw err
      }
    },

    async receive (batch, opts) {
      const { params } = batch
      const n = batch.tickets.length
      const sender = addressOrThrow(batch.sender)
      const refuse = (code: TicketErrorCode, message: string): never => {
        count(code, Math.max(n, 1))
        throw new TicketError(code, message)
      }
      if (n === 0 || n > options.maxTicketsPerBatch) refuse('TICKET_ERROR_INVALID_PARAMS', `a batch holds 1 to ${options.maxTicketsPerBatch} tickets, got ${n}`)
      if (sender === ZERO_ADDRESS) refuse('TICKET_ERROR_INVALID_SENDER', 'sender is the zero address')
      try {
        await checkSender(sender, opts)
      } catch (err) {
        if (err instanceof TicketError) count(err.code, n)
        throw err
      }
      const [config, currentBlock] = await Promise.all([
        readChain('broker config', async () => await broker.config(opts)),
        readChain('block number', async () => await broker.blockNumber(opts))
      ])
      const domain = { chainId: config.chainId, broker: config.broker }
      const ticketDomain = { chainId: params.chainId, broker: params.broker }
      const recipientRand = rand.rand({ ...params, sender, recipient: address })
      const ev = ticketEV(params.faceValue, params.winProb)

      let credited = 0n
      let winners = 0
      let accepted = 0
      const rejected: TicketError[] = []
      for (const { senderNonce, signature } of batch.tickets) {
        const ticket = ticketOf(params, sender, senderNonce)
        let hash: Uint8Array
        try {
          hash = validator.validateTicket(ticket, signature, { recipient: address, domain, ticketDomain, recipientRand, currentBlock })
        } catch (err) {
          if (!(err instanceof TicketError)) throw err
          count(err.code)
          rejected.push(err)
          // an expired ticket that passed every other check is still worth redeeming if it won
          if (err.code === 'TICKET_ERROR_PARAMS_EXPIRED' && validator.isWinningTicket(signature, recipientRand, params.winProb)) {
            const ticketHashHex = ticketHashHexOf(ticket, domain)
            if (store.addWinner({ ticketHash: ticketHashHex, ticket, signature, recipientRand, domain, receivedAt: clock.now() })) {
              winners++
              metrics?.winningTickets.inc()
              metrics?.winningFaceValue.inc(weiToMetric(ticket.faceValue))
            }
          }
          continue
        }
        // each nonce once per recipientRandHash
        let set = seen.get(ticket.recipientRandHash)
        if (set === undefined) {
          if (seen.size >= options.maxTrackedParams) prune(currentBlock)
          if (seen.size >= options.maxTrackedParams) {
            const err = new TicketError('TICKET_ERROR_TOO_MANY_NONCES', 'too many live params sets; try again later')
            count(err.code)
            rejected.push(err)
            continue
          }
          set = { nonces: new Set(), expirationBlock: ticket.expirationBlock }
          seen.set(ticket.recipientRandHash, set)
        }
        if (set.nonces.has(senderNonce)) {
          const err = new TicketError('TICKET_ERROR_NONCE_REPLAYED', `nonce ${senderNonce} was already used with these params`, { senderNonce: senderNonce.toString() })
          count(err.code)
          rejected.push(err)
          continue
        }
        if (set.nonces.size >= options.maxNoncesPerParams) {
          const err = new TicketError('TICKET_ERROR_TOO_MANY_NONCES', `params used for ${options.maxNoncesPerParams} tickets already; get new params`)
          count(err.code)
          rejected.push(err)
          continue
        }
        set.nonces.add(senderNonce)
        if (validator.isWinningTicket(signature, recipientRand, params.winProb)) {
          // durable before the job is acknowledged: a crash from here on loses nothing
          if (store.addWinner({ ticketHash: bytesToHex(hash), ticket, signature, recipientRand, domain, receivedAt: clock.now() })) {
            winners++
            metrics?.winningTickets.inc()
            metrics?.winningFaceValue.inc(weiToMetric(ticket.faceValue))
          }
        }
        credited += ev
        accepted++
        count('accepted')
      }
      if (seen.size > options.maxTrackedParams / 2) prune(currentBlock)

      const balance = credited > 0n ? balances.credit(sender, credited) : balances.balance(sender)
      if (credited > 0n) metrics?.evCredited.inc(weiToMetric(credited))
      if (rejected.length > 0) {
        const first = rejected[0]
        throw new TicketError(first.code, first.message, {
          ...first.details,
          credited: credited.toString(),
          winners,
          accepted,
          rejected: rejected.length
        })
      }
      return { credited, winners, accepted, balance }
    },

    debit (sender, wei) {
      metrics?.debited.inc(weiToMetric(wei))
      return balances.debit(normalizeAddress(sender), wei)
    },

    balance: (sender) => balances.balance(normalizeAddress(sender)),

    requireBalance (sender, wei) {
      const balance = balances.balance(normalizeAddress(sender))
      if (balance < wei) {
        metrics?.insufficientBalance.inc()
        throw new PaymentError('PAYMENT_ERROR_INSUFFICIENT_BALANCE', `sender ${sender} has ${balance} wei of credit; the work needs ${wei}`, {
          balance: balance.toString(),
          required: wei.toString()
        })
      }
    }
  }
}
