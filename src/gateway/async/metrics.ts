import { Gauge, type Registry } from 'prom-client'

/** The asynchronous result store's size: bytes held in memory and on disk. */
export function createAsyncStoreMetrics (register: Registry) {
  return {
    resultBytes: new Gauge({
      name: 'shoal_gateway_async_result_bytes',
      help: 'Bytes of asynchronous results held, by where (memory, disk)',
      labelNames: ['where'] as const,
      registers: [register]
    })
  }
}

export type AsyncStoreMetrics = ReturnType<typeof createAsyncStoreMetrics>
