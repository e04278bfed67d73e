import yargs, { type Argv } from 'yargs'
import { CliError } from './errors.js'
import { COMMANDS } from './commands/index.js'

/**
 * One factory for the whole CLI, used by the binary and by tests. Every command
 * lives in its own file under `commands/` and reads its options through `options/`.
 */
export function getShoalCli (argv: string[]): Argv {
  let cli = yargs(argv)
    .scriptName('shoal')
    .usage('$0 <command> [options]\n\nShoal: peer-to-peer AI inference, paid with probabilistic micropayments.')
    // every flag can also come from a SHOAL_* environment variable, e.g. SHOAL_DATA_DIR, SHOAL_HTTP_PORT;
    // yargs' strict mode would also refuse SHOAL_* variables meant for other commands, so unknown
    // flags are refused by our own check of the command line instead
    .env('SHOAL')
    .strictCommands()
    .middleware(((_args: unknown, y: unknown) => { refuseUnknownFlags(argv, y as Argv) }) as never, true)
    .demandCommand(1, 'Name a command; `shoal --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .fail((message, error) => {
      // yargs wraps what its parser met (a bad --config file) in a YError: a usage error like the others
      if (error != null && error.name !== 'YError') throw error
      throw new CliError('CLI_ERROR_USAGE', `${message}\n\nRun \`shoal --help\` for usage.`)
    })
  for (const command of COMMANDS) cli = cli.command(command)
  return cli
}

function camelCase (flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

/** Refuses flags on the command line that the command does not define (a typo must not be ignored). */
function refuseUnknownFlags (argv: string[], y: Argv): void {
  const options = (y as unknown as { getOptions: () => { key: Record<string, unknown>, alias: Record<string, string[]> } }).getOptions()
  const known = new Set<string>([...Object.keys(options.key), ...Object.values(options.alias).flat(), 'help', 'version', 'h'])
  const unknown: string[] = []
  for (const token of argv) {
    if (token === '--') break
    if (!token.startsWith('-') || /^-\d/.test(token)) continue
    const name = token.replace(/^-+/, '').split('=')[0]
    const bare = name.startsWith('no-') ? name.slice(3) : name
    if (!known.has(name) && !known.has(bare) && !known.has(camelCase(bare))) unknown.push(token.split('=')[0])
  }
  if (unknown.length > 0) throw new CliError('CLI_ERROR_USAGE', `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}\n\nRun \`shoal --help\` for usage.`)
}

export async function main (argv: string[]): Promise<void> {
  try {
    await getShoalCli(argv).parseAsync()
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`shoal: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
}
