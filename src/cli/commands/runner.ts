import { randomBytes } from 'node:crypto'
import type { CommandModule } from 'yargs'
import { createLogger } from '../../observability/logger.js'
import { createCpuRunnerServer, listCpuModels, UnsupportedRunnerModelError, ModelFailureError } from '../../cpu-runner/index.js'
import { CliError } from '../errors.js'
import { printEvent, printListening, runUntilSignal } from '../lifecycle.js'
import { watchParent, type ParentWatchdog } from '../parent-watchdog.js'
import { closeInheritedDescriptors } from '../inherited-fds.js'
import { commandSummary } from './index.js'

/**
 * `shoal runner`: an ai-runner-compatible HTTP server for one model that really runs
 * on CPU. Configured like an ai-runner container: env `PIPELINE`, `MODEL_ID`, `HOST`,
 * `PORT`, `AUTH_TOKEN`; flags override the env (except the token, kept out of argv).
 * Safe by default, unlike the container: it listens on 127.0.0.1:8000 and requires a
 * bearer token; without `AUTH_TOKEN` one is generated and printed in the listening
 * event. `--allow-no-token` runs it open, on purpose. Prints
 * `{"event":"listening","url","token"}` when it listens (health LOADING) and
 * `{"event":"ready"}` once the model is loaded (health OK).
 */
/**
 * After its parent is gone, a runner stops gracefully or, past this, is killed by its
 * watchdog thread (even with its main thread blocked). A runner holds nothing durable.
 */
const PARENT_GONE_EXIT_MS = 3_000

export const runnerCommand: CommandModule = {
  ...commandSummary('runner'),
  builder: (y) => y.options({
    pipeline: { type: 'string', describe: 'pipeline to serve, e.g. upscale [env PIPELINE]' },
    'model-id': { type: 'string', describe: 'model to run, e.g. upscalerjs/esrgan-slim-x2 [env MODEL_ID]' },
    host: { type: 'string', describe: 'address to listen on; 0.0.0.0 to serve other machines [env HOST, default 127.0.0.1]' },
    port: { type: 'number', describe: 'port to listen on, 0 for any [env PORT, default 8000]' },
    workers: { type: 'number', default: 1, describe: 'model threads: jobs that run at once' },
    'max-queue': { type: 'number', default: 32, describe: 'jobs that may wait for a model thread; more get 503' },
    'max-input-pixels': { type: 'number', default: 512 * 512, describe: 'largest image accepted (width x height); larger ones get 400' },
    'max-body-bytes': { type: 'number', default: 50 * 1024 * 1024, describe: 'largest request body or file; larger ones get 413' },
    'allow-no-token': { type: 'boolean', default: false, describe: 'serve without a bearer token when AUTH_TOKEN is unset (anyone who reaches the port can run jobs); by default a token is generated and printed' },
    'list-models': { type: 'boolean', default: false, describe: 'print the models this runner can run and exit' },
    'exit-with-stdin': { type: 'boolean', default: false, hidden: true, describe: 'exit when stdin closes (used by the orchestrator that spawned it)' },
    'log-level': { choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', describe: 'log level (JSON logs on stderr)' }
  }),
  handler: async (args) => {
    if (args['list-models'] === true) {
      for (const m of listCpuModels()) process.stdout.write(`${m.pipeline}\t${m.modelId}\t${m.description}\n`)
      return
    }
    const pipeline = (args.pipeline as string | undefined) ?? process.env.PIPELINE
    const modelId = (args['model-id'] as string | undefined) ?? process.env.MODEL_ID
    if (pipeline === undefined || pipeline === '') throw new CliError('CLI_ERROR_USAGE', 'set the pipeline: --pipeline or env PIPELINE (see `shoal runner --list-models`)')
    if (modelId === undefined || modelId === '') throw new CliError('CLI_ERROR_USAGE', 'set the model: --model-id or env MODEL_ID (see `shoal runner --list-models`)')
    const host = (args.host as string | undefined) ?? (process.env.HOST === undefined || process.env.HOST === '' ? '127.0.0.1' : process.env.HOST)
    const port = (args.port as number | undefined) ?? (process.env.PORT === undefined || process.env.PORT === '' ? 8000 : Number(process.env.PORT))
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('CLI_ERROR_USAGE', `invalid port ${String(port)}`)
    for (const name of ['workers', 'max-queue', 'max-input-pixels', 'max-body-bytes'] as const) {
      const value = args[name] as number
      if (!Number.isInteger(value) || value < (name === 'max-queue' ? 0 : 1)) throw new CliError('CLI_ERROR_USAGE', `--${name} must be a positive integer`)
    }
    const givenToken = process.env.AUTH_TOKEN === undefined || process.env.AUTH_TOKEN === '' ? undefined : process.env.AUTH_TOKEN
    const open = args['allow-no-token'] === true
    // a generated token is printed once, in the listening event (stdout), for the operator to pass on
    const generatedToken = givenToken === undefined && !open ? randomBytes(24).toString('base64url') : undefined
    const authToken = givenToken ?? generatedToken
    const logger = createLogger({ level: args['log-level'] as string, bindings: { role: 'runner', pipeline, modelId } })
    if (authToken === undefined) logger.warn({ host }, 'serving without a bearer token (--allow-no-token): anyone who reaches this port can run jobs')

    let server
    try {
      server = createCpuRunnerServer({
        pipeline,
        modelId,
        host,
        port,
        authToken,
        logger,
        defaultMetrics: true,
        workers: args.workers as number,
        maxQueue: args['max-queue'] as number,
        maxInputPixels: args['max-input-pixels'] as number,
        maxBodyBytes: args['max-body-bytes'] as number
      })
    } catch (err) {
      if (err instanceof UnsupportedRunnerModelError) throw new CliError('CLI_ERROR_CONFIG', err.message)
      throw err
    }
    const runner = server
    const exitWithStdin = args['exit-with-stdin'] === true
    let watchdog: ParentWatchdog | undefined
    if (exitWithStdin) {
      // spawned by an orchestrator: drop its descriptors we got by accident (its datastore files)
      const closed = closeInheritedDescriptors()
      if (closed.length > 0) logger.debug({ closed }, 'closed descriptors inherited from the parent')
      // the parent holds our stdin: when it goes away (even killed), we stop too
      let signalled = false
      const parentGone = (): void => {
        if (signalled) return
        signalled = true
        // nobody is left to stop us if the graceful stop hangs (a job mid-flight for a dead client)
        setTimeout(() => { process.exit(1) }, PARENT_GONE_EXIT_MS).unref()
        process.kill(process.pid, 'SIGTERM')
      }
      process.stdin.on('end', parentGone)
      process.stdin.on('error', parentGone)
      process.stdin.resume()
      // and whatever the main thread is doing: a thread of its own sees the parent die
      watchdog = watchParent({ graceMs: PARENT_GONE_EXIT_MS, onGone: parentGone, onError: (err) => { logger.error({ err }, 'parent watchdog failed') } })
    }
    try {
      await runUntilSignal(logger, async (signal) => {
        let url: string
        try {
          url = await runner.listen({ signal })
        } catch (err) {
          if (signal.aborted) return runner
          throw err
        }
        printListening(signal, { role: 'runner', url, pipeline: runner.pipeline, modelId: runner.modelId, auth: authToken !== undefined, ...(generatedToken === undefined ? {} : { token: generatedToken }) })
        try {
          await runner.ready({ signal })
        } catch (err) {
          // stopped while loading: runUntilSignal stops the runner, nothing failed
          if (signal.aborted) return runner
          await runner.stop()
          if (err instanceof ModelFailureError) throw new CliError('CLI_ERROR_RUNTIME', err.message)
          throw err
        }
        printEvent('ready', { role: 'runner', url, pipeline: runner.pipeline, modelId: runner.modelId })
        return runner
      })
    } finally {
      // a resumed stdin would keep the process alive after a graceful stop
      if (exitWithStdin) process.stdin.destroy()
      await watchdog?.stop()
    }
  }
}
