import type { PipelineName } from '../../kernel/pipelines.js'
import type { MaxPriceConfig } from '../selection/price.js'

export interface DispatcherOptions {
  /**
   * No new attempt starts, and no request waits for a slot, later than this after the
   * dispatch began. A job already running is cut only by its own deadlines.
   */
  retryBudgetMs: number
  /** attempts per dispatch, all orchestrators together; busy answers do not count */
  maxTries: number
  /** attempts per orchestrator per dispatch; busy answers do not count */
  maxTriesPerOrchestrator: number
  /** the most the gateway pays, globally, per pipeline or per (pipeline, model) */
  maxPrice: MaxPriceConfig
  /**
   * refuse orchestrators priced above this multiple of the median price of the proven
   * orchestrators (a success recorded) for the same (pipeline, model); 0 turns it off
   */
  maxPriceMultiple: number
  /** first wait for a slot when every candidate was busy, if nothing wakes the request sooner; doubles each time */
  busyRetryDelayMs: number
  /** the longest such wait */
  busyRetryMaxDelayMs: number
  /** requests waiting for a slot, per (pipeline, model); when full, 503 with Retry-After at once */
  busyQueueLength: number
  /** busy answers one dispatch may collect before it gives up (bounds X-Shoal-Tried) */
  maxBusyAttempts: number
  /** the chance that an unproven orchestrator gets a first attempt while proven ones exist */
  explorationShare: number
  /** pipelines whose requests are hedged: a second attempt once the first passes its expected p95 */
  hedgePipelines: PipelineName[]
  /** never hedge earlier than this after the first attempt started, ms */
  hedgeMinDelayMs: number
  /**
   * hedges as a share of hedgeable requests, at most (a token bucket): a skewed p95
   * (say, an LLM's time to first token per max_tokens) cannot double the load
   */
  maxHedgeShare: number
  /** an attempt's first-byte deadline is this multiple of its expected p95 time */
  deadlineMultiple: number
  /** the shortest first-byte deadline, ms */
  firstByteDeadlineFloorMs: number
  /** the longest first-byte deadline, ms */
  firstByteDeadlineCapMs: number
  /**
   * the first-byte deadline when nothing is measured for the (pipeline, model), per
   * pipeline, ms; pipelines not listed use `unmeasuredFirstByteDefaultMs`
   */
  unmeasuredFirstByteMs: Partial<Record<PipelineName, number>>
  unmeasuredFirstByteDefaultMs: number
  /** added to the first-byte deadline of an orchestrator whose model is cold (it loads it first), ms */
  coldStartAllowanceMs: number
  /** the total deadline (until the job ends) is this multiple of the first-byte deadline */
  totalDeadlineMultiple: number
  /** the shortest total deadline, ms (a stream may run long after its first byte) */
  totalDeadlineFloorMs: number
  /** the longest total deadline, ms */
  totalDeadlineCapMs: number
}

export const defaultDispatcherOptions: DispatcherOptions = {
  // the reference allows 2 s, which gives up on any job that fails after running
  // longer than that (an orchestrator killed mid-job); 30 s still bounds a client's wait
  retryBudgetMs: 30_000,
  // as the reference: 20 tries, 3 per orchestrator (failures and successes only)
  maxTries: 20,
  maxTriesPerOrchestrator: 3,
  maxPrice: {},
  // 3x the median of orchestrators that served: room for honest price differences,
  // not for one priced at 1,000x its peers
  maxPriceMultiple: 3,
  busyRetryDelayMs: 20,
  busyRetryMaxDelayMs: 1_000,
  busyQueueLength: 256,
  maxBusyAttempts: 100,
  explorationShare: 0.1,
  // short jobs, where a second attempt costs little and a slow first byte is most of the wait
  hedgePipelines: ['llm', 'text-to-speech', 'image-to-text'],
  hedgeMinDelayMs: 100,
  // p95 alone would hedge ~5 % of requests; twice that leaves room for bursts
  maxHedgeShare: 0.1,
  deadlineMultiple: 3,
  firstByteDeadlineFloorMs: 2_000,
  // the protocol's own default job deadline
  firstByteDeadlineCapMs: 10 * 60_000,
  unmeasuredFirstByteMs: {
    'image-to-video': 300_000,
    'text-to-image': 120_000,
    'image-to-image': 120_000,
    llm: 30_000,
    'text-to-speech': 30_000,
    'image-to-text': 30_000,
    'segment-anything-2': 30_000
  },
  // no longer than the retry budget for the pipelines not listed (upscale, audio-to-text)
  unmeasuredFirstByteDefaultMs: 30_000,
  coldStartAllowanceMs: 30_000,
  totalDeadlineMultiple: 10,
  // no shorter than the protocol's default: a long LLM stream is measured only to its first byte
  totalDeadlineFloorMs: 10 * 60_000,
  totalDeadlineCapMs: 30 * 60_000
}
