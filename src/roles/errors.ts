import { ShoalError } from '../kernel/errors.js'

export type RoleErrorCode = 'ROLE_ERROR_CONFIG' | 'ROLE_ERROR_KEYS' | 'ROLE_ERROR_CHAIN'

/** A role refuses to start with what it was given (unsafe settings, unreadable keys); the CLI prints it as one line. */
export class RoleStartError extends ShoalError<RoleErrorCode> {
  static override readonly name = 'RoleStartError'
}
