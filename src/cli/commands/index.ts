import type { CommandModule } from 'yargs'
import { bootstrapCommand } from './bootstrap.js'
import { chainCommand } from './chain.js'
import { gatewayCommand } from './gateway.js'
import { keysCommand } from './keys.js'
import { orchestratorCommand } from './orchestrator.js'
import { runnerCommand } from './runner.js'
import { testnetCommand } from './testnet.js'
import { workerCommand } from './worker.js'

// Each command lives in its own file; register it here (one line each).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMMANDS: Array<CommandModule<any, any>> = [
  keysCommand,
  bootstrapCommand,
  orchestratorCommand,
  gatewayCommand,
  testnetCommand,
  runnerCommand,
  chainCommand,
  workerCommand
]
