import type { CommandModule } from 'yargs'
import { createLogger } from '../../observability/logger.js'
import { createCpuRunnerServer, listCpuModels, UnsupportedRunnerModelError, ModelFailureError } from '../../inference/runner/index.js'
import { CliError } from '../errors.js'
import { printEvent, runUntilSignal } from '../lifecycle.js'

/**
 * `shoal runner`: an ai-runner-compatible HTTP server for one model that really runs
 * on CPU. Configured like an ai-runner container: env `PIPELINE`, `MODEL_ID`, `HOST`,
 * `PORT` (0.0.0.0:8000), optional `AUTH_TOKEN`; flags override the env (except the
 * token, kept out of argv). Prints `{"event":"listening","url"}` when it listens
 * (health LOADING) and `{"event":"ready"}` once the model is loaded (health OK).
 */
/** After its parent is gone, a runner stops gracefully or, past this, exits anyway. */
const PARENT_GONE_EXIT_MS = 10_000
const PARENT_CHECK_MS = 1_000

export const runnerCommand: CommandModule = {
  command: 'runner',
  describe: 'run an ai-runner-compatible CPU runner for one model (env PIPELINE, MODEL_ID, HOST, PORT, AUTH_TOKEN)',
  builder: (y) => y.options({
    pipeline: { type: 'string', describe: 'pipeline to serve, e.g. upscale [env PIPELINE]' },
    'model-id': { type: 'string', describe: 'model to run, e.g. upscalerjs/esrgan-slim-x2 [env MODEL_ID]' },
    host: { type: 'string', describe: 'address to listen on [env HOST, default 0.0.0.0]' },
    port: { type: 'number', describe: 'port to listen on, 0 for any [env PORT, default 8000]' },
    workers: { type: 'number', default: 1, describe: 'model threads: jobs that run at once' },
    'max-queue': { type: 'number', default: 32, describe: 'jobs that may wait for a model thread; more get 503' },
    'max-input-pixels': { type: 'number', default: 512 * 512, describe: 'largest image accepted (width x height); larger ones get 400' },
    'max-body-bytes': { type: 'number', default: 50 * 1024 * 1024, describe: 'largest request body or file; larger ones get 413' },
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
    const host = (args.host as string | undefined) ?? process.env.HOST ?? '0.0.0.0'
    const port = (args.port as number | undefined) ?? (process.env.PORT === undefined || process.env.PORT === '' ? 8000 : Number(process.env.PORT))
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('CLI_ERROR_USAGE', `invalid port ${String(port)}`)
    for (const name of ['workers', 'max-queue', 'max-input-pixels', 'max-body-bytes'] as const) {
      const value = args[name] as number
      if (!Number.isInteger(value) || value < (name === 'max-queue' ? 0 : 1)) throw new CliError('CLI_ERROR_USAGE', `--${name} must be a positive integer`)
    }
    const authToken = process.env.AUTH_TOKEN === undefined || process.env.AUTH_TOKEN === '' ? undefined : process.env.AUTH_TOKEN
    const logger = createLogger({ level: args['log-level'] as string, bindings: { role: 'runner', pipeline, modelId } })

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
    if (exitWithStdin) {
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
      // and in case the end of stdin is missed: a dead parent makes us someone else's child
      const parent = process.ppid
      setInterval(() => { if (process.ppid !== parent) parentGone() }, PARENT_CHECK_MS).unref()
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
        printEvent('listening', { role: 'runner', url, pipeline: runner.pipeline, modelId: runner.modelId })
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
    }
  }
}
