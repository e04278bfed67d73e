/**
 * The ai-runner HTTP API client used by the orchestrator to talk to runners (the CPU
 * runner, ai-runner containers, external runners).
 *
 * @example
 * const client = createRunnerClient({ url: 'http://127.0.0.1:8000', token })
 * await client.health() // {status: 'OK'}
 * const res = await client.run(job, { signal })
 * for await (const chunk of res.body) relay(chunk)
 */
export {
  createRunnerClient,
  encodeJob,
  defaultRunnerClientOptions,
  type RunnerClient,
  type RunnerClientOptions,
  type RunnerHealth,
  type RunnerVersion,
  type RunnerHardwareInfo,
  type RunnerHardwareStats,
  type AbortOptions
} from './client.js'
export { RunnerClientError, type RunnerClientErrorCode } from './errors.js'
export { encodeMultipart, type EncodedBody } from './multipart.js'
