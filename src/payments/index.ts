/**
 * Shoal payments: probabilistic micropayment tickets (see README.md in this folder).
 * This entry point is the ticket logic and the two facades; it does not import the chain
 * client: the ethers-backed Broker, anvil, deployment and account operations are in
 * `./chain/index.js`, the SQLite store in `./store/sqlite-ticket-store.js`.
 */
export { createPaymentSender, type PaymentSender, type PaymentSenderInit, type PaymentRequest, type Payment, type RecipientPayments } from './payment-sender.js'
export { createPaymentRecipient, type PaymentRecipient, type PaymentRecipientInit } from './payment-recipient.js'
export type { ReceiveResult, Recipient } from './recipient.js'
export type { Sender } from './sender.js'
export { createRedeemer, type Redeemer, type RedeemerDeps, type RedeemPass } from './redeemer.js'
export { cachedBroker, PERMANENT_REDEEM_REVERTS, type Broker, type BrokerConfig, type CachedBroker, type SenderInfo, type ReserveInfo, type Redemption, type AbortOptions } from './broker.js'
export { createMemoryTicketStore, type TicketStore, type StoredWinner, type WinningTicket, type WinnerStatus } from './ticket-store.js'
export { encodeTicketParams, decodeTicketParams, encodeTicketBatch, decodeTicketBatch, MAX_WIRE_TICKETS } from './wire.js'
export { TicketError, PaymentError, PaymentWireError, ChainError, TICKET_ERROR_CODES, type TicketErrorCode, type PaymentErrorCode } from './errors.js'
export { createPaymentMetrics, type PaymentMetrics } from './metrics.js'
export { defaultRecipientOptions, defaultSenderCaps, defaultSenderOptions, defaultRedeemerOptions, type RecipientOptions, type SenderCaps, type SenderOptions, type RedeemerOptions } from './options.js'
export { ticketEV, ticketHash, ticketHashHex, winProbFor, MAX_WIN_PROB, type Ticket, type TicketParams, type TicketBatch, type SignedTicket, type TicketDomain } from './ticket.js'
export { systemClock, type Clock } from './clock.js'
