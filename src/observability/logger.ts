import { pino, destination, type Logger } from 'pino'

export type { Logger }

export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal, silent */
  level?: string
  /** bound fields on every line, for example the node's role and peer id */
  bindings?: Record<string, unknown>
}

/**
 * Structured JSON logs on stderr (stdout is kept for command output such as the
 * testnet's `ready` line). Lines name the peer and the job through child bindings.
 */
export function createLogger (options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.SHOAL_LOG_LEVEL ?? 'info'
  return pino({ level, base: options.bindings ?? {} }, destination({ fd: 2, sync: false }))
}

/** A logger that drops everything, for tests and libraries used without one. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
