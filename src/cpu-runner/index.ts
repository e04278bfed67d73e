/**
 * The embedded CPU runner: an ai-runner-compatible HTTP server running models that
 * really run on CPU (ESRGAN upscale; `shoal/noop` for benchmarks only).
 *
 * @example
 * const runner = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', port: 0 })
 * await runner.start()
 * // POST `${runner.url}/upscale` (multipart: prompt, image) -> {images: [{url: 'data:image/png;base64,...', seed, nsfw}]}
 * await runner.stop()
 */
export { createCpuRunnerServer, type CpuRunnerServer, type RunnerHealthStatus } from './server.js'
export { defaultCpuRunnerOptions, type CpuRunnerOptions } from './options.js'
export { availableCpuModels, listCpuModels, assertCpuModelSupported, NOOP_MODEL_ID, type CpuModelInfo } from './models/index.js'
export { ESRGAN_MODELS, findEsrganModel, loadEsrganUpscaler, type EsrganUpscaler, type EsrganModelSpec, type EsrganOptions } from './models/esrgan.js'
export { UnsupportedRunnerModelError, ModelInputError, ModelFailureError, RunnerBusyError } from './errors.js'
export { validateRunnerRequest } from './schemas.js'
export { CPU_RUNNER_VERSION } from './version.js'
