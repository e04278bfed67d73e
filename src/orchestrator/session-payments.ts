/**
 * Payment acceptance for long-lived sessions (`/shoal/live` video sessions and custom
 * capability stream sessions): each payment frame is decoded, its sender's binding to the
 * peer verified once per peer, and its tickets credited. Any failure ends the session
 * with PAYMENT_REQUIRED, so both services close it the same way.
 */
import { verifyEthBinding } from '../identity/binding.js'
import { decodeJobPayment } from '../payments/job-payment.js'
import type { PaymentRecipient } from '../payments/index.js'
import type { LiveCloseCode } from '../protocols/live/index.js'

/** Ends a session with a close code sent to the gateway. */
export class SessionEnd extends Error {
  constructor (readonly code: LiveCloseCode, message: string) { super(message) }
}

/**
 * How a session's failure is closed: its own SessionEnd, the orchestrator stopping
 * (`stopping`), or anything else as INTERNAL with its message.
 */
export function sessionEndOf (err: unknown, stopping: boolean): SessionEnd {
  if (err instanceof SessionEnd) return err
  if (stopping) return new SessionEnd('INTERNAL', 'the orchestrator is stopping')
  return new SessionEnd('INTERNAL', (err as Error).message)
}

/** peers whose binding is remembered; the oldest is forgotten past this */
const MAX_REMEMBERED_BINDINGS = 100_000

export interface SessionPaymentHooks {
  /** tickets credited: what they added and the balance after */
  onAccepted?: (peer: string, credited: bigint, balance: bigint) => void
  onRefused?: (peer: string) => void
}

/** Verifies a session payment from `peer` and credits its tickets; resolves to the payer's address. */
export type AcceptSessionPayment = (peer: string, bytes: Uint8Array | undefined, signal: AbortSignal) => Promise<string>

export function createSessionPaymentAcceptor (recipient: PaymentRecipient, hooks: SessionPaymentHooks = {}): AcceptSessionPayment {
  /** peer id -> Ethereum address once its binding verified */
  const bindings = new Map<string, string>()
  return async (peer, bytes, signal) => {
    let payment
    try {
      payment = decodeJobPayment(bytes ?? null)
    } catch (err) {
      throw new SessionEnd('PAYMENT_REQUIRED', `malformed payment: ${(err as Error).message}`)
    }
    if (payment === null) throw new SessionEnd('PAYMENT_REQUIRED', 'this orchestrator is paid with tickets: the session carries no payment')
    if (bindings.get(peer) !== payment.sender) {
      if (!verifyEthBinding(peer, payment.sender, payment.binding)) throw new SessionEnd('PAYMENT_REQUIRED', `the payment address ${payment.sender} is not bound to peer ${peer}`)
      bindings.set(peer, payment.sender)
      if (bindings.size > MAX_REMEMBERED_BINDINGS) bindings.delete(bindings.keys().next().value as string)
    }
    if (payment.tickets !== null) {
      try {
        const received = await recipient.receive(payment.tickets, { signal })
        hooks.onAccepted?.(peer, received.credited, received.balance)
      } catch (err) {
        hooks.onRefused?.(peer)
        throw new SessionEnd('PAYMENT_REQUIRED', `tickets refused: ${(err as Error).message}`)
      }
    }
    return payment.sender
  }
}
