/**
 * Worker-thread host of one ESRGAN model (see `esrgan-pool.ts`). Messages in:
 * `{type: 'run', id, image}` and `{type: 'abort', id}`; out: `ready` / `load-error`
 * once, then `result` / `error` per run. The upscaler yields between patches, so an
 * abort stops a running job at the next patch boundary.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadEsrganUpscaler, type EsrganModelSpec, type EsrganOptions } from './esrgan.js'
import { ModelInputError } from '../errors.js'

export interface EsrganWorkerData { spec: EsrganModelSpec, options: EsrganOptions }
export type EsrganWorkerRequest = { type: 'run', id: number, image: Uint8Array } | { type: 'abort', id: number }
export type EsrganWorkerReply =
  | { type: 'ready' }
  | { type: 'load-error', message: string }
  | { type: 'result', id: number, png: Uint8Array, width: number, height: number }
  | { type: 'error', id: number, input: boolean, aborted: boolean, message: string }

const port = parentPort
if (port !== null) {
  const { spec, options } = workerData as EsrganWorkerData
  const post = (reply: EsrganWorkerReply, transfer?: ArrayBuffer[]): void => { port.postMessage(reply, transfer) }
  try {
    const model = await loadEsrganUpscaler(spec, options)
    const running = new Map<number, AbortController>()
    port.on('message', (message: EsrganWorkerRequest) => {
      if (message.type === 'abort') {
        running.get(message.id)?.abort()
        return
      }
      const controller = new AbortController()
      running.set(message.id, controller)
      model.upscale(message.image, { signal: controller.signal }).then((result) => {
        const png = new Uint8Array(result.png.buffer, result.png.byteOffset, result.png.byteLength)
        post({ type: 'result', id: message.id, png, width: result.width, height: result.height })
      }, (err: unknown) => {
        post({
          type: 'error',
          id: message.id,
          input: err instanceof ModelInputError,
          aborted: controller.signal.aborted,
          message: err instanceof Error ? err.message : String(err)
        })
      }).finally(() => running.delete(message.id))
    })
    post({ type: 'ready' })
  } catch (err) {
    post({ type: 'load-error', message: err instanceof Error ? err.message : String(err) })
  }
}
