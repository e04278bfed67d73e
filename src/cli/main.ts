import yargs, { type Argv } from 'yargs'
import { CliError } from './errors.js'
import { COMMANDS } from './commands/index.js'

/**
 * One factory for the whole CLI, used by the binary and by tests. Every command
 * lives in its own file under `commands/` and reads its options through `config/`.
 */
export function getShoalCli (argv: string[]): Argv {
  let cli = yargs(argv)
    .scriptName('shoal')
    .usage('$0 <command> [options]\n\nShoal: peer-to-peer AI inference, paid with probabilistic micropayments.')
    .strict()
    .demandCommand(1, 'Name a command; `shoal --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .fail((message, error, y) => {
      if (error != null) throw error
      throw new CliError('CLI_ERROR_USAGE', `${message}\n\n${y.help() === undefined ? '' : ''}Run \`shoal --help\` for usage.`)
    })
  for (const command of COMMANDS) cli = cli.command(command)
  return cli
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
