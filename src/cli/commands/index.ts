import type { CommandModule } from 'yargs'

/**
 * Every command: its usage line and description here, its options and handler in its own
 * file, loaded only when that command runs (`shoal --help` loads none of them). Register a
 * new command with one entry.
 */
export interface CommandEntry {
  name: string
  command: string
  describe: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  load: () => Promise<CommandModule<any, any>>
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'keys', command: 'keys <action>', describe: 'create (init) or print (show) the node\'s libp2p and Ethereum keys', load: async () => (await import('./keys.js')).keysCommand },
  { name: 'bootstrap', command: 'bootstrap', describe: 'run a bootstrap node: a DHT server and gossip relay others join through', load: async () => (await import('./bootstrap.js')).bootstrapCommand },
  { name: 'orchestrator', command: 'orchestrator', describe: 'run an orchestrator: serve the models of aiModels.json on the mesh and get paid for jobs', load: async () => (await import('./orchestrator.js')).orchestratorCommand },
  { name: 'gateway', command: 'gateway', describe: 'run a gateway: a Livepeer-compatible HTTP API that routes jobs to orchestrators on the mesh', load: async () => (await import('./gateway.js')).gatewayCommand },
  { name: 'testnet', command: 'testnet', describe: 'start a local mesh with real inference and real payments: a local chain, a bootstrap, N orchestrators with CPU runners and a gateway, each its own process; Ctrl-C stops it', load: async () => (await import('./testnet.js')).testnetCommand },
  { name: 'runner', command: 'runner', describe: 'run an ai-runner-compatible CPU runner for one model (env PIPELINE, MODEL_ID, HOST, PORT, AUTH_TOKEN)', load: async () => (await import('./runner.js')).runnerCommand },
  { name: 'chain', command: 'chain <command>', describe: 'TicketBroker account operations: deposit, reserve, unlock, withdraw, status; orchestrator stake: bond, unbond, withdraw-bond, bond-status', load: async () => (await import('./chain.js')).chainCommand },
  { name: 'receipt', command: 'receipt <action> <receipt>', describe: 'check a signed job receipt (an x-shoal-receipt header) offline against the orchestrator\'s peer id', load: async () => (await import('./receipt.js')).receiptCommand },
  { name: 'live', command: 'live <action> [input]', describe: 'live video over trickle HTTP for clients without WebRTC: publish MPEG-TS (a file or - for stdin, e.g. from ffmpeg) to a stream, or subscribe to its output (to stdout)', load: async () => (await import('./live.js')).liveCommand },
  { name: 'worker', command: 'worker', describe: 'run a remote worker: serve this machine\'s runners to one orchestrator (which must allow its peer id)', load: async () => (await import('./worker.js')).workerCommand }
]

/** The usage line and description of a command, for its own module (one source for both). */
export function commandSummary (name: string): { command: string, describe: string } {
  const entry = COMMANDS.find(c => c.name === name)
  if (entry === undefined) throw new Error(`unregistered command ${name}`)
  return { command: entry.command, describe: entry.describe }
}
