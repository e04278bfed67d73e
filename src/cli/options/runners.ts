import type { Options } from 'yargs'
import { isPipelineName, type PipelineName } from '../../kernel/pipelines.js'
import { parseAllowList, WorkerConfigError } from '../../protocols/worker/index.js'
import type { RunnersConfig } from '../../roles/config.js'
import { CliError } from '../errors.js'
import { listOption, parsePipelineMap } from './node.js'

/** Who runs an orchestrator's models: processes or Docker containers, plus allowed remote workers. */
export type RunnersCliOptions = RunnersConfig

export function runnerFlags (): Record<string, Options> {
  const group = 'Runners:'
  return {
    runners: { choices: ['process', 'docker'], default: 'process', describe: 'who runs aiModels.json entries without url: CPU runner processes, or ai-runner containers through the Docker Engine API (DOCKER_HOST)', group },
    'docker-gpus': { type: 'string', describe: 'GPU ids for containers, comma-separated (e.g. 0,1); none: CPU', group },
    'docker-containers-per-gpu': { type: 'number', describe: 'containers per GPU (on CPU: containers in all) [default: 1]', group },
    'docker-models-dir': { type: 'string', describe: 'absolute host path bind-mounted at /models in every container', group },
    'docker-image': { type: 'array', string: true, describe: 'image per pipeline, as PIPELINE=IMAGE (repeatable) [default: the livepeer/ai-runner tags]', group },
    'docker-default-image': { type: 'string', describe: 'image for pipelines without their own [default: livepeer/ai-runner:latest]', group },
    'docker-network': { type: 'string', describe: 'join this Docker network and reach runners by name instead of publishing ports', group },
    'docker-env': { type: 'array', string: true, describe: 'extra container env as NAME=VALUE, or NAME to copy it from this process (repeatable)', group },
    'docker-startup-timeout': { type: 'number', describe: 'longest wait for a container\'s /health, ms [default: 180000]', group },
    'worker-allow': { type: 'array', string: true, describe: 'peer ids of remote workers allowed to register (`shoal worker` prints its id)', group },
    'worker-models': { type: 'string', describe: 'aiModels.json-format file pricing the models workers serve (only pipeline, model_id and price fields are used)', group }
  }
}

export function parseRunnerArgs (args: Record<string, unknown>): RunnersCliOptions {
  const images: Partial<Record<PipelineName, string>> = parsePipelineMap('docker-image', listOption(args.dockerImage), (name): name is PipelineName => isPipelineName(name), 'IMAGE')
  const env: Record<string, string> = {}
  for (const value of listOption(args.dockerEnv)) {
    const at = value.indexOf('=')
    if (at === 0) throw new CliError('CLI_ERROR_CONFIG', `--docker-env: "${value}" has no name`)
    if (at > 0) env[value.slice(0, at)] = value.slice(at + 1)
    else if (process.env[value] !== undefined) env[value] = process.env[value] as string
    else throw new CliError('CLI_ERROR_CONFIG', `--docker-env: ${value} is not set in this environment`)
  }
  const modelsDir = typeof args.dockerModelsDir === 'string' ? args.dockerModelsDir : undefined
  if (modelsDir !== undefined && !modelsDir.startsWith('/')) throw new CliError('CLI_ERROR_CONFIG', `--docker-models-dir: "${modelsDir}" must be an absolute path`)
  const perGpu = args.dockerContainersPerGpu === undefined ? undefined : Number(args.dockerContainersPerGpu)
  if (perGpu !== undefined && (!Number.isInteger(perGpu) || perGpu < 1)) throw new CliError('CLI_ERROR_CONFIG', '--docker-containers-per-gpu must be a positive integer')
  const startup = args.dockerStartupTimeout === undefined ? undefined : Number(args.dockerStartupTimeout)
  if (startup !== undefined && (!Number.isInteger(startup) || startup < 1000)) throw new CliError('CLI_ERROR_CONFIG', '--docker-startup-timeout must be at least 1000 ms')
  let workerAllow: string[]
  try {
    workerAllow = [...parseAllowList(listOption(args.workerAllow))]
  } catch (err) {
    if (err instanceof WorkerConfigError) throw new CliError('CLI_ERROR_CONFIG', `--worker-allow: ${err.message}`)
    throw err
  }
  return {
    managed: args.runners === 'docker' ? 'docker' : 'process',
    docker: {
      gpus: listOption(args.dockerGpus),
      images,
      env,
      ...(perGpu === undefined ? {} : { containersPerGpu: perGpu }),
      ...(modelsDir === undefined ? {} : { modelsDir }),
      ...(typeof args.dockerDefaultImage === 'string' ? { defaultImage: args.dockerDefaultImage } : {}),
      ...(typeof args.dockerNetwork === 'string' ? { network: args.dockerNetwork } : {}),
      ...(startup === undefined ? {} : { startupTimeoutMs: startup })
    },
    workerAllow,
    ...(typeof args.workerModels === 'string' ? { workerModelsPath: args.workerModels } : {})
  }
}
