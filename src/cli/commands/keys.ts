import type { CommandModule } from 'yargs'
import { resolve } from 'node:path'
import { KeyFileError } from '../../p2p/errors.js'
import { keyPaths, loadNodeKeys, loadOrCreateNodeKeys } from '../../p2p/keys.js'
import { CliError } from '../errors.js'
import { defaultDataDir } from '../options/node.js'
import type { NodeRole } from '../../p2p/node.js'
import { commandSummary } from './index.js'

interface KeysArgs { action: 'init' | 'show', dataDir?: string, role: NodeRole, json: boolean }

export const keysCommand: CommandModule<object, KeysArgs> = {
  ...commandSummary('keys'),
  builder: (y) => y
    .positional('action', { choices: ['init', 'show'] as const, demandOption: true })
    .option('data-dir', { type: 'string', describe: 'data directory [default: ~/.shoal/<role>]' })
    .option('role', { choices: ['bootstrap', 'orchestrator', 'gateway', 'worker'] as const, default: 'orchestrator' as NodeRole, describe: 'picks the default data directory' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  handler: async (args) => {
    const dataDir = resolve(args.dataDir ?? defaultDataDir(args.role))
    try {
      const keys = args.action === 'init' ? await loadOrCreateNodeKeys(dataDir) : { ...(await loadNodeKeys(dataDir)), created: [] }
      const out = {
        peerId: keys.peerId.toString(),
        ethAddress: keys.ethereum.address,
        files: keyPaths(dataDir),
        created: keys.created
      }
      if (args.json) {
        process.stdout.write(`${JSON.stringify(out)}\n`)
      } else {
        process.stdout.write(`peer id:          ${out.peerId}\nEthereum address: ${out.ethAddress}\nkeys:             ${out.files.dir}\n`)
        if (args.action === 'init') process.stdout.write(keys.created.length > 0 ? `created:          ${keys.created.join(', ')}\n` : 'keys already existed; reused\n')
      }
    } catch (err) {
      if (err instanceof KeyFileError) throw new CliError('CLI_ERROR_KEYS', err.message)
      throw err
    }
  }
}
