import type { CommandModule } from 'yargs'
import { readFile } from 'node:fs/promises'
import { ReceiptError, receiptFromHeaderValue, receiptJson, verifyReceipt } from '../../trust/receipts/index.js'
import { CliError } from '../errors.js'
import { commandSummary } from './index.js'

interface ReceiptArgs { action: 'verify', receipt: string, orchestrator?: string, json: boolean }

/** The receipt argument: the header value itself, `@FILE` holding it, or `-` for stdin. */
async function receiptText (arg: string): Promise<string> {
  // yargs reads a lone `-` as an empty string
  if (arg === '-' || arg === '') {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  if (arg.startsWith('@')) return await readFile(arg.slice(1), 'utf8')
  return arg
}

/**
 * `shoal receipt verify`: checks a signed receipt offline (an `x-shoal-receipt` value)
 * against the orchestrator's peer id, whose Ed25519 public key it holds. Exit status 0
 * when it verifies, 1 when it does not (the reason's code is printed).
 */
export const receiptCommand: CommandModule<object, ReceiptArgs> = {
  ...commandSummary('receipt'),
  builder: (y) => y
    .positional('action', { choices: ['verify'] as const, demandOption: true })
    .positional('receipt', { type: 'string', demandOption: true, describe: 'the x-shoal-receipt value (base64url), @FILE, or - for stdin' })
    .option('orchestrator', { type: 'string', describe: 'the peer id that must have signed it [default: the one the receipt names]' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  handler: async (args) => {
    let signed
    try {
      signed = receiptFromHeaderValue(await receiptText(args.receipt))
    } catch (err) {
      throw new CliError('CLI_ERROR_USAGE', `receipt: ${(err as Error).message}`)
    }
    try {
      const receipt = await verifyReceipt(signed, args.orchestrator === undefined ? {} : { orchestrator: args.orchestrator })
      const out = { valid: true, ...receiptJson(receipt) }
      if (args.json) process.stdout.write(`${JSON.stringify(out)}\n`)
      else {
        process.stdout.write(`valid receipt signed by ${receipt.orchestrator}\n` + Object.entries(out).filter(([k]) => k !== 'receipt' && k !== 'valid').map(([k, v]) => `  ${k}: ${String(v)}`).join('\n') + '\n')
      }
    } catch (err) {
      if (!(err instanceof ReceiptError)) throw err
      if (args.json) process.stdout.write(`${JSON.stringify({ valid: false, code: err.code, message: err.message })}\n`)
      else process.stdout.write(`invalid receipt: ${err.code}: ${err.message}\n`)
      process.exitCode = 1
    }
  }
}
