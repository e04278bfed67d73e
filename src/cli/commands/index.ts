import type { CommandModule } from 'yargs'
import { bootstrapCommand } from './bootstrap.js'
import { keysCommand } from './keys.js'

// Each command lives in its own file; register it here (one line each).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMMANDS: Array<CommandModule<any, any>> = [
  keysCommand,
  bootstrapCommand
]
