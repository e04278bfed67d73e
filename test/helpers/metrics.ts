import type { Registry } from 'prom-client'

/**
 * The value of a Prometheus metric in `registry`: the sum over its series whose labels
 * include `labels` (histogram buckets left out, so a histogram gives its sum and count);
 * 0 when the metric or series does not exist yet.
 */
export async function metricValue (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get()
  if (metric === undefined) return 0
  return metric.values
    .filter(v => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .filter(v => !('metricName' in v) || v.metricName === undefined || !String(v.metricName).endsWith('_bucket'))
    .reduce((sum, v) => sum + v.value, 0)
}
