/**
 * `llm` on CPU: llama.cpp through `node-llama-cpp` (3.21.1, extras package) running a
 * GGUF file the operator supplies; no npm package ships real LLM weights. The model id
 * is either the path of a `.gguf` file, or any name when `SHOAL_LLM_MODEL_PATH` points
 * at the file (so an operator can serve e.g. `meta-llama/Llama-3.2-1B-Instruct` from
 * its Q4 GGUF under the name gateways ask for).
 *
 * Answers are the reference LLMResponse (`{id, model, created, usage, choices}`), and
 * with `stream: true` Server-Sent Events: one chunk per piece of text
 * (`choices[0].delta.content`), then a last chunk with `finish_reason` and `usage`.
 * `usage.completion_tokens` counts the tokens really generated (payments bill on it);
 * `prompt_tokens` the tokens of the chat prompt the model evaluated.
 *
 * Settings (env): `SHOAL_LLM_MODEL_PATH`; `SHOAL_LLM_THREADS` (CPU threads, default
 * half the cores, at least 1: llama.cpp threads spin, and oversubscribed cores make it
 * many times slower); `SHOAL_LLM_CONTEXT_SIZE` (default the model's training context,
 * at most 4096). Jobs at once (`--workers`) are parallel sequences of one context.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, resolve as resolvePath } from 'node:path'
import type { JsonValue } from '../../kernel/job.js'
import type { Logger } from '../../observability/logger.js'
import { ModelFailureError, ModelInputError } from '../errors.js'
import type { ValidatedRequest } from '../schemas.js'
import { importExtra, INSTALL_EXTRAS_HINT, missingExtras } from './extras.js'
import type { CpuModelFamily, FamilyModelOptions } from './family.js'
import type { CpuModel, ModelOutput } from './types.js'
import { anySignal } from '../../signals/any-signal.js'

const PACKAGE = 'node-llama-cpp'
const DEFAULT_MAX_CONTEXT = 4096

type ChatHistoryItem = { type: 'system', text: string } | { type: 'user', text: string } | { type: 'model', response: string[] }

interface PromptOptions {
  maxTokens: number
  temperature: number
  topP?: number
  topK?: number
  signal: AbortSignal
  onTextChunk: (text: string) => void
}
interface ChatSession {
  setChatHistory: (history: ChatHistoryItem[]) => void
  promptWithMeta: (prompt: string, options: PromptOptions) => Promise<{ responseText: string, stopReason: string }>
  dispose: (options?: { disposeSequence?: boolean }) => void
}
interface ContextSequence { readonly tokenMeter: { readonly usedInputTokens: number, readonly usedOutputTokens: number }, dispose: () => void }
interface LlamaContext { readonly contextSize: number, readonly sequencesLeft: number, getSequence: () => ContextSequence, dispose: () => Promise<void> }
interface LlamaModel {
  readonly trainContextSize: number
  createContext: (options: { contextSize: number, sequences: number, threads: number }) => Promise<LlamaContext>
  dispose: () => Promise<void>
}
interface Llama { loadModel: (options: { modelPath: string, gpuLayers: number }) => Promise<LlamaModel>, dispose: () => Promise<void> }
interface NodeLlamaCpp {
  getLlama: (options: Record<string, unknown>) => Promise<Llama>
  LlamaChatSession: new (options: { contextSequence: ContextSequence }) => ChatSession
}

/** The GGUF file a model id names: the id itself when it is a `.gguf` path, else `SHOAL_LLM_MODEL_PATH`. */
export function llmModelPath (modelId: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (modelId.toLowerCase().endsWith('.gguf')) return resolvePath(modelId)
  const configured = env.SHOAL_LLM_MODEL_PATH
  return configured === undefined || configured === '' ? null : resolvePath(configured)
}

function positiveIntEnv (env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new ModelFailureError(`${name} must be a positive integer, not "${raw}"`)
  return n
}

interface ChatRequest {
  history: ChatHistoryItem[]
  prompt: string
}

/** Splits OpenAI-style messages into llama.cpp chat history and the prompt (the last user message). */
export function chatRequest (messages: ReadonlyArray<{ role: string, content: string }>): ChatRequest {
  if (messages.length === 0) throw new ModelInputError('messages is empty')
  const last = messages[messages.length - 1]
  if (last.role !== 'user') throw new ModelInputError('the last message must have the role "user"')
  const history: ChatHistoryItem[] = []
  for (const m of messages.slice(0, -1)) {
    if (m.role === 'system') history.push({ type: 'system', text: m.content })
    else if (m.role === 'user') history.push({ type: 'user', text: m.content })
    else if (m.role === 'assistant') history.push({ type: 'model', response: [m.content] })
    else throw new ModelInputError(`unknown message role "${m.role}" (system, user or assistant)`)
  }
  return { history, prompt: last.content }
}

/** how long a job waits for the sequence of an aborted job to be released */
const SEQUENCE_WAIT_MS = 10_000

/**
 * A free sequence of the context. The runner's queue admits at most `concurrency`
 * jobs, but llama.cpp releases an aborted job's sequence only once the batch it was
 * evaluating ends, a moment after the abort: wait for it.
 */
async function acquireSequence (context: LlamaContext, signal: AbortSignal): Promise<ContextSequence> {
  const deadline = Date.now() + SEQUENCE_WAIT_MS
  for (;;) {
    signal.throwIfAborted()
    if (context.sequencesLeft > 0) return context.getSequence()
    if (Date.now() > deadline) throw new ModelFailureError('no free llama.cpp sequence')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

interface Sampling { maxTokens: number, temperature: number, topP?: number, topK?: number }

/** The sampling fields of a request; throws `ModelInputError` for values llama.cpp cannot use. */
export function sampling (request: ValidatedRequest): Sampling {
  const p = request.params
  const maxTokens = typeof p.max_tokens === 'number' ? p.max_tokens : 256
  if (maxTokens < 1) throw new ModelInputError('max_tokens must be at least 1')
  const temperature = typeof p.temperature === 'number' ? p.temperature : 0.7
  if (temperature < 0) throw new ModelInputError('temperature must not be negative')
  const topP = typeof p.top_p === 'number' ? p.top_p : 1
  if (topP <= 0 || topP > 1) throw new ModelInputError('top_p must be in (0, 1]')
  const topK = typeof p.top_k === 'number' ? p.top_k : -1
  // top_p 1 and top_k -1 (the reference defaults) mean "no cut"
  return { maxTokens, temperature, ...(topP < 1 ? { topP } : {}), ...(topK > 0 ? { topK } : {}) }
}

interface Generation {
  text: string
  promptTokens: number
  completionTokens: number
  finishReason: 'stop' | 'length'
}

function createLlmModel (modelId: string, options: FamilyModelOptions): CpuModel {
  const logger: Logger = options.logger
  const concurrency = Math.max(1, options.workers)
  let lib: NodeLlamaCpp | null = null
  let llama: Llama | null = null
  let model: LlamaModel | null = null
  let context: LlamaContext | null = null

  async function generate (request: ValidatedRequest, signal: AbortSignal, onText: (text: string) => void): Promise<Generation> {
    if (lib === null || context === null) throw new ModelFailureError('the model is not loaded')
    const { history, prompt } = chatRequest(request.params.messages as Array<{ role: string, content: string }>)
    const { maxTokens, temperature, topP, topK } = sampling(request)
    const sequence = await acquireSequence(context, signal)
    const session = new lib.LlamaChatSession({ contextSequence: sequence })
    try {
      // exactly the request's messages: no default system prompt of the chat wrapper
      session.setChatHistory(history)
      const result = await session.promptWithMeta(prompt, {
        maxTokens: Math.min(maxTokens, context.contextSize),
        temperature,
        ...(topP === undefined ? {} : { topP }),
        ...(topK === undefined ? {} : { topK }),
        signal,
        onTextChunk: onText
      })
      signal.throwIfAborted()
      return {
        text: result.responseText,
        promptTokens: sequence.tokenMeter.usedInputTokens,
        // every token the model generated, including any it held back from the text
        // (a partial UTF-8 character or stop sequence when max_tokens cut it)
        completionTokens: sequence.tokenMeter.usedOutputTokens,
        finishReason: result.stopReason === 'maxTokens' ? 'length' : 'stop'
      }
    } finally {
      session.dispose({ disposeSequence: true })
    }
  }

  const usage = (g: Generation): JsonValue => ({ prompt_tokens: g.promptTokens, completion_tokens: g.completionTokens, total_tokens: g.promptTokens + g.completionTokens })

  async function * streamChunks (request: ValidatedRequest, signal: AbortSignal, id: string, created: number): AsyncIterable<JsonValue> {
    const pieces: string[] = []
    let wake: (() => void) | null = null
    let finished = false
    let outcome: { ok: true, value: Generation } | { ok: false, error: unknown } | null = null
    const stop = new AbortController()
    const job = generate(request, anySignal([signal, stop.signal]), (text) => { pieces.push(text); wake?.() })
      .then((value) => { outcome = { ok: true, value } }, (error: unknown) => { outcome = { ok: false, error } })
      .finally(() => { finished = true; wake?.() })
    try {
      for (;;) {
        while (pieces.length > 0) {
          const content = pieces.shift() as string
          yield { id, model: modelId, created, choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: '' }] }
        }
        if (finished) break
        await new Promise<void>((resolve) => {
          wake = resolve
          if (pieces.length > 0 || finished) resolve()
        })
        wake = null
      }
      const done = outcome as { ok: true, value: Generation } | { ok: false, error: unknown } | null
      if (done === null || !done.ok) throw done?.error ?? new ModelFailureError('the generation ended without a result')
      yield {
        id,
        model: modelId,
        created,
        usage: usage(done.value),
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: done.value.finishReason }]
      }
    } finally {
      // the client went away or the stream failed: stop generating and free the sequence
      stop.abort(new Error('the stream was closed'))
      await job
    }
  }

  return {
    pipeline: 'llm',
    modelId,
    concurrency,
    load: async ({ signal } = {}) => {
      const path = llmModelPath(modelId, options.env)
      if (path === null) throw new ModelFailureError(`no GGUF file for "${modelId}": set SHOAL_LLM_MODEL_PATH or use the path of a .gguf file as the model id`)
      if (!existsSync(path)) throw new ModelFailureError(`the GGUF file ${path} does not exist`)
      const threads = positiveIntEnv(options.env, 'SHOAL_LLM_THREADS', Math.max(1, Math.floor(availableParallelism() / 2)))
      const maxContext = positiveIntEnv(options.env, 'SHOAL_LLM_CONTEXT_SIZE', DEFAULT_MAX_CONTEXT)
      lib = await importExtra<NodeLlamaCpp>(PACKAGE, options.env)
      signal?.throwIfAborted()
      // CPU only, the prebuilt binary only: never download or compile llama.cpp at run time
      llama = await lib.getLlama({
        gpu: false,
        build: 'never',
        skipDownload: true,
        progressLogs: false,
        logLevel: 'warn',
        logger: (level: string, message: string) => {
          const text = message.trim()
          if (text === '') return
          if (level === 'error' || level === 'fatal') logger.error({ llama: text }, 'llama.cpp')
          else logger.debug({ llama: text }, 'llama.cpp')
        }
      })
      signal?.throwIfAborted()
      model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
      const contextSize = Math.max(64, Math.min(model.trainContextSize > 0 ? model.trainContextSize : maxContext, maxContext))
      context = await model.createContext({ contextSize, sequences: concurrency, threads })
      logger.info({ path, file: basename(path), contextSize, threads, sequences: concurrency, bytes: statSync(path).size }, 'GGUF model loaded')
    },
    run: async (request, { signal }): Promise<ModelOutput> => {
      const id = `chatcmpl-${randomBytes(12).toString('hex')}`
      const created = Math.floor(Date.now() / 1000)
      if (request.params.stream === true) {
        // fail fast on bad input, before the 200 of the event stream is sent
        chatRequest(request.params.messages as Array<{ role: string, content: string }>)
        sampling(request)
        return { kind: 'sse', events: streamChunks(request, signal, id, created) }
      }
      const g = await generate(request, signal, () => {})
      return {
        kind: 'json',
        body: {
          id,
          model: modelId,
          created,
          usage: usage(g),
          choices: [{ index: 0, finish_reason: g.finishReason, message: { role: 'assistant', content: g.text } }]
        }
      }
    },
    close: async () => {
      await context?.dispose()
      await model?.dispose()
      await llama?.dispose()
      context = null
      model = null
      llama = null
    }
  }
}

export const llmFamily: CpuModelFamily = {
  pipeline: 'llm',
  models: (env) => {
    const configured = env.SHOAL_LLM_MODEL_PATH
    if (configured === undefined || configured === '') return []
    return [{ modelId: resolvePath(configured), description: `llama.cpp (node-llama-cpp) on CPU running the GGUF file ${basename(configured)} (SHOAL_LLM_MODEL_PATH)` }]
  },
  // the only CPU family for llm: it explains itself in `unavailable` for any id
  matches: () => true,
  unavailable: (modelId, env) => {
    if (missingExtras([PACKAGE], env).length > 0) return `${PACKAGE} is not installed: ${INSTALL_EXTRAS_HINT}`
    const path = llmModelPath(modelId, env)
    if (path === null) return `no GGUF file for "${modelId}": set SHOAL_LLM_MODEL_PATH to a .gguf file, or use the path of a .gguf file as the model id`
    if (!existsSync(path)) return `the GGUF file ${path} does not exist`
    return null
  },
  create: createLlmModel
}
