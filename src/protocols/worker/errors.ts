import { ShoalError } from '../../kernel/errors.js'
import type { RefusalCode } from './constants.js'

export type WorkerProtocolErrorCode =
  /** a control message that is not UTF-8 JSON of a known shape, or has unknown or out-of-range fields */
  | 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE'
  /** a length prefix beyond `WORKER_LIMITS.maxMessageBytes` */
  | 'WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE'
  /** a valid message in a state where it is not allowed (e.g. an Update before Register) */
  | 'WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE'
  /** the stream ended, or was reset, during the handshake */
  | 'WORKER_PROTOCOL_ERROR_UNEXPECTED_EOF'
  /** no message within the register or heartbeat timeout */
  | 'WORKER_PROTOCOL_ERROR_TIMEOUT'

/** A peer broke the `/shoal/worker` control protocol; the control stream is reset. */
export class WorkerProtocolError extends ShoalError<WorkerProtocolErrorCode> {
  static override readonly name = 'WorkerProtocolError'
}

export type WorkerRefusedErrorCode = `WORKER_ERROR_${RefusalCode}`

/**
 * The orchestrator refused this worker's registration (worker side). `NOT_ALLOWED`
 * means its peer id is missing from the orchestrator's allow-list.
 */
export class WorkerRefusedError extends ShoalError<WorkerRefusedErrorCode> {
  static override readonly name = 'WorkerRefusedError'
  constructor (readonly refusal: RefusalCode, message: string, details?: Record<string, unknown>) {
    super(`WORKER_ERROR_${refusal}`, message, details)
  }
}

export type WorkerConfigErrorCode =
  /** an allow-list entry that is not a peer id */
  | 'WORKER_CONFIG_ERROR_ALLOW_LIST'
  /** the orchestrator address is not a multiaddr ending in /p2p/<peer id> */
  | 'WORKER_CONFIG_ERROR_ORCHESTRATOR'
  /** an option out of range (heartbeat, backoff) */
  | 'WORKER_CONFIG_ERROR_OPTION'

/** Bad configuration of the worker protocol, raised at construction. */
export class WorkerConfigError extends ShoalError<WorkerConfigErrorCode> {
  static override readonly name = 'WorkerConfigError'
}
