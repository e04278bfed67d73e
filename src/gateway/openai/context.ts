import type { Logger } from '../../observability/logger.js'
import type { AddRoute, DirectoryView, SubmitJob } from '../http/server.js'
import type { ReadLimits } from '../http/read-request.js'

/** What the OpenAI-compatible routes use of the gateway's HTTP server. */
export interface OpenAiContext {
  add: AddRoute
  /** the pipeline routes' parse -> dispatch -> payment path */
  submit: SubmitJob
  directory: DirectoryView
  limits: ReadLimits
  logger: Logger
}
