import { ShoalError } from '../../kernel/errors.js'

export type EmulationErrorCode =
  | 'EMULATION_ERROR_COMMAND'
  | 'EMULATION_ERROR_UNKNOWN_HOST'
  | 'EMULATION_ERROR_SHAPE'
  | 'EMULATION_ERROR_UNSUPPORTED'
  | 'EMULATION_ERROR_NODE'

/** A failure to build or change the emulated network (a namespace, a link, a node in it). */
export class EmulationError extends ShoalError<EmulationErrorCode> {
  static override readonly name = 'EmulationError'
}
