import yargs, { type Argv, type CommandModule } from 'yargs'
import { CliError } from './errors.js'
import { RoleStartError } from '../roles/errors.js'
import { COMMANDS } from './commands/index.js'
import { describeStartupError } from './startup-error.js'

/**
 * One factory for the whole CLI, used by the binary and by tests. Every command
 * lives in its own file under `commands/` and reads its options through `options/`.
 */
export function getShoalCli (argv: string[], loaded: Record<string, CommandModule<any, any>> = {}): Argv { // eslint-disable-line @typescript-eslint/no-explicit-any
  let cli = yargs(argv)
    .scriptName('shoal')
    .usage('$0 <command> [options]\n\nShoal: peer-to-peer AI inference, paid with probabilistic micropayments.')
    // every flag can also come from a SHOAL_* environment variable, e.g. SHOAL_DATA_DIR, SHOAL_HTTP_PORT;
    // yargs' strict mode would also refuse SHOAL_* variables meant for other commands, so unknown
    // flags are refused by our own check of the command line instead
    .env('SHOAL')
    .strictCommands()
    .middleware(((_args: unknown, y: unknown) => { refuseUnknownFlags(argv, y as Argv); refuseFlagsWithoutValue(argv, y as Argv) }) as never, true)
    .demandCommand(1, 'Name a command; `shoal --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .fail((message, error) => {
      // yargs wraps what its parser met (a bad --config file) in a YError: a usage error like the others
      if (error != null && error.name !== 'YError') throw error
      throw new CliError('CLI_ERROR_USAGE', `${message} (run \`shoal --help\` for usage)`)
    })
  // a command's module (options, handler and everything it imports) is loaded only to run it
  // or show its help; the others are listed by name and description
  for (const entry of COMMANDS) {
    const module = loaded[entry.name]
    cli = cli.command(module ?? { command: entry.command, describe: entry.describe, handler: () => { throw new Error(`command ${entry.name} was not loaded`) } })
  }
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
    // `-` alone is a value (standard input), a negative number too
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) continue
    const name = token.replace(/^-+/, '').split('=')[0]
    const bare = name.startsWith('no-') ? name.slice(3) : name
    if (!known.has(name) && !known.has(bare) && !known.has(camelCase(bare))) unknown.push(token.split('=')[0])
  }
  if (unknown.length > 0) throw new CliError('CLI_ERROR_USAGE', `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (run \`shoal --help\` for usage)`)
}

interface YargsOptions { key: Record<string, unknown>, alias: Record<string, string[]>, boolean: string[], count: string[] }

/**
 * Refuses a flag that takes a value but is given none (`--orchestrators` at the end, or
 * followed by another flag): yargs would otherwise take its default silently.
 */
function refuseFlagsWithoutValue (argv: string[], y: Argv): void {
  const options = (y as unknown as { getOptions: () => YargsOptions }).getOptions()
  const flagLike = new Set<string>([...options.boolean, ...options.count, 'help', 'version', 'h'])
  for (const [name, aliases] of Object.entries(options.alias)) {
    if (flagLike.has(name)) for (const a of aliases) flagLike.add(a)
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '--') break
    if (!token.startsWith('--') || token.includes('=')) continue
    const name = token.slice(2)
    if (name.startsWith('no-') || flagLike.has(name) || flagLike.has(camelCase(name))) continue
    if (!(name in options.key) && !(camelCase(name) in options.key)) continue
    const next = argv[i + 1]
    if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
      throw new CliError('CLI_ERROR_USAGE', `${token} needs a value (run \`shoal --help\` for usage)`)
    }
  }
}

/** The command named on the command line (the first word that is not a flag), if it is one. */
function commandName (argv: string[]): string | undefined {
  const word = argv.find(t => !t.startsWith('-'))
  return COMMANDS.some(c => c.name === word) ? word : undefined
}

/**
 * Runs the CLI. Any failure, at start-up or later, ends as one line on stderr,
 * `shoal: <cause>`, and exit code 1 (SHOAL_DEBUG=1 adds the stack).
 */
export async function main (argv: string[]): Promise<void> {
  try {
    const name = commandName(argv)
    const entry = COMMANDS.find(c => c.name === name)
    const loaded = entry === undefined ? {} : { [entry.name]: await entry.load() }
    await getShoalCli(argv, loaded).parseAsync()
  } catch (err) {
    // a role refusing its configuration is a start-up failure like any other: its message is the cause
    process.stderr.write(`shoal: ${err instanceof CliError || err instanceof RoleStartError ? err.message : describeStartupError(err)}\n`)
    if (process.env.SHOAL_DEBUG === '1' && !(err instanceof CliError) && !(err instanceof RoleStartError)) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  }
}
