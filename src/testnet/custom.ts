/**
 * The testnet's custom capability: the example app of docker/custom-example
 * (`thumbnail`, image thumbnails with sharp) run by every orchestrator as a process
 * runner, priced at the custom pipeline's testnet price per compute millisecond.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipelineDefinition } from '../kernel/pipelines.js'
import { packageRoot } from './package-root.js'

export const TESTNET_CAPABILITY = 'thumbnail'

/** Writes `<dataDir>/capabilities.json` and returns its path. */
export async function writeTestnetCapabilities (dataDir: string): Promise<string> {
  const file = join(dataDir, 'capabilities.json')
  const perMs = BigInt(pipelineDefinition('custom').testnetPrice ?? '0')
  await writeFile(file, JSON.stringify([{
    name: TESTNET_CAPABILITY,
    description: 'image thumbnails with sharp (libvips): POST an image to /thumbnail?width=N, get a PNG',
    command: [process.execPath, join(packageRoot(), 'docker', 'custom-example', 'server.mjs')],
    capacity: 2,
    price_per_second: (perMs * 1000n).toString(),
    timeout_seconds: 30
  }], null, 2), { mode: 0o600 })
  return file
}

/** The curl that calls it, on an image the testnet wrote. */
export function testnetCapabilityCurl (gatewayUrl: string, image: string): string {
  return `curl -D - -H 'content-type: image/png' --data-binary @${image} '${gatewayUrl}/capability/${TESTNET_CAPABILITY}/thumbnail?width=32' -o thumbnail.png`
}

/** One call through the mesh: the status, the thumbnail's size and what the orchestrator measured and charged. */
export async function runCapabilityDemo (gatewayUrl: string, image: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  const started = performance.now()
  const res = await fetch(`${gatewayUrl}/capability/${TESTNET_CAPABILITY}/thumbnail?width=32`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: await readFile(image),
    signal: options.signal ?? AbortSignal.timeout(60_000)
  })
  const body = Buffer.from(await res.arrayBuffer())
  const ms = (performance.now() - started).toFixed(0)
  if (res.status !== 200) return `${res.status} in ${ms} ms: ${body.toString('utf8').slice(0, 200)}`
  const charged = res.headers.get('x-shoal-charged-wei')
  return `200 in ${ms} ms: a ${body.byteLength}-byte PNG; ${res.headers.get('x-shoal-compute-ms') ?? '?'} ms of compute${charged === null ? '' : `, charged ${charged} wei`}`
}
