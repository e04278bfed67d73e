/**
 * What a managed runner container is: its image, name, labels and create options, as
 * pure functions of the model entry and the slot it runs in (no Docker calls here).
 * The conventions are ai-runner's (go-livepeer `ai/worker/docker.go`): env `PIPELINE`,
 * `MODEL_ID`, optional `AUTH_TOKEN` and the optimization flags; port 8000; weights
 * under `/models`; one GPU per container through a device request.
 */
import type Dockerode from 'dockerode'
import type { ModelEntry } from '../models-config.js'
import type { PipelineName } from '../../kernel/pipelines.js'

/** the port an ai-runner container listens on */
export const RUNNER_CONTAINER_PORT = 8000
/** where the host's model directory is mounted in the container */
export const MODELS_MOUNT = '/models'
/** the image of pipelines without their own (go-livepeer's `defaultBaseImage`) */
export const DEFAULT_RUNNER_IMAGE = 'livepeer/ai-runner:latest'
/** pipelines with their own image (go-livepeer's `pipelineToImage`) */
export const DEFAULT_PIPELINE_IMAGES: Readonly<Partial<Record<PipelineName, string>>> = {
  'segment-anything-2': 'livepeer/ai-runner:segment-anything-2',
  'text-to-speech': 'livepeer/ai-runner:text-to-speech',
  'audio-to-text': 'livepeer/ai-runner:audio-to-text',
  llm: 'livepeer/ai-runner:llm'
}

/** `shoal.managed=<owner>`: a restarted manager with the same owner removes such containers */
export const LABEL_MANAGED = 'shoal.managed'
export const LABEL_PIPELINE = 'shoal.pipeline'
export const LABEL_MODEL_ID = 'shoal.model-id'
export const LABEL_SLOT = 'shoal.slot'
export const LABEL_GPU = 'shoal.gpu'

/** a Docker container name: `[a-zA-Z0-9][a-zA-Z0-9_.-]*` */
export const CONTAINER_NAME_PREFIX = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
const MAX_NAME_LENGTH = 200

/** The image for a pipeline: `images[pipeline]`, else the ai-runner tag for it, else `defaultImage`. */
export function runnerImage (pipeline: PipelineName, images: Partial<Record<PipelineName, string>>, defaultImage: string): string {
  return images[pipeline] ?? DEFAULT_PIPELINE_IMAGES[pipeline] ?? defaultImage
}

/**
 * `<prefix>-<pipeline>_<model>_<suffix>` (the suffix is the host port), e.g.
 * `shoal-upscale_stabilityai-stable-diffusion-x4-upscaler_49152`; characters Docker
 * refuses in the model id become `-`.
 */
export function containerName (prefix: string, pipeline: PipelineName, modelId: string, suffix: string | number): string {
  const model = modelId.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '')
  const tail = `_${suffix}`
  return `${prefix}-${pipeline}_${model}`.slice(0, MAX_NAME_LENGTH - tail.length) + tail
}

export interface ContainerSpecInput {
  entry: ModelEntry
  image: string
  name: string
  /** value of the `shoal.managed` label */
  owner: string
  /** slot index (label only) */
  slot: number
  /** the GPU this container gets (a device id such as `0` or a UUID), or null for none */
  gpu: string | null
  /** the runner's bearer token (`AUTH_TOKEN`) */
  token: string
  /** host directory mounted at `/models`, or null for none */
  modelsDir: string | null
  /** publish port 8000 on this host address and port (null: do not publish) */
  hostIp: string
  hostPort: number | null
  /** attach to this Docker network instead of the default bridge */
  network: string | null
  /** extra environment, under the entry's flags and the runner's own variables */
  env: Readonly<Record<string, string>>
}

/** The `createContainer` options for one runner container. */
export function containerSpec (input: ContainerSpecInput): Dockerode.ContainerCreateOptions {
  const { entry } = input
  const flags = Object.fromEntries(Object.entries(entry.optimizationFlags).map(([k, v]) => [k, String(v)]))
  const env: Record<string, string> = {
    ...input.env,
    ...flags,
    PIPELINE: entry.pipeline,
    MODEL_ID: entry.modelId,
    AUTH_TOKEN: input.token,
    ...(input.modelsDir === null ? {} : { MODEL_DIR: MODELS_MOUNT })
  }
  const port = `${RUNNER_CONTAINER_PORT}/tcp`
  const hostConfig: Dockerode.HostConfig = {
    // a node (or python) PID 1 ignores SIGTERM without an init; tini forwards it
    Init: true,
    ...(input.hostPort === null ? {} : { PortBindings: { [port]: [{ HostIp: input.hostIp, HostPort: String(input.hostPort) }] } }),
    ...(input.network === null ? {} : { NetworkMode: input.network }),
    ...(input.modelsDir === null ? {} : { Mounts: [{ Type: 'bind', Source: input.modelsDir, Target: MODELS_MOUNT }] }),
    // `docker run --gpus device=<id>`: one GPU per container
    ...(input.gpu === null ? {} : { DeviceRequests: [{ Driver: '', Count: 0, DeviceIDs: [input.gpu], Capabilities: [['gpu']], Options: {} }] })
  }
  return {
    name: input.name,
    Image: input.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ExposedPorts: { [port]: {} },
    Labels: {
      [LABEL_MANAGED]: input.owner,
      [LABEL_PIPELINE]: entry.pipeline,
      [LABEL_MODEL_ID]: entry.modelId,
      [LABEL_SLOT]: String(input.slot),
      ...(input.gpu === null ? {} : { [LABEL_GPU]: input.gpu })
    },
    HostConfig: hostConfig
  }
}
