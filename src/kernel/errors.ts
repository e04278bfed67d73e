/**
 * Base of every typed error in Shoal. Subclasses set a stable `name` (static and
 * instance) and carry a `code` from a bounded, prefixed set, so tests and metrics can
 * match on them without parsing messages.
 */
export class ShoalError<Code extends string = string> extends Error {
  static override readonly name: string = 'ShoalError'
  readonly code: Code
  readonly details?: Record<string, unknown>

  constructor (code: Code, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.name = (new.target as { name: string }).name
    this.code = code
    if (details !== undefined) this.details = details
  }
}
