/**
 * bench/runner: what the CPU runner's HTTP path adds to a real upscale. For each ESRGAN
 * model, the same 128x128 PNG is upscaled (a) by calling the model directly in this
 * process and (b) through the runner: the ai-runner client, HTTP on loopback, the
 * fastify server, the model thread, the JSON/base64 answer decoded back to PNG bytes.
 * The two are interleaved in one run; the ratio of medians is the overhead (goal < 3%).
 * `min` compares the fastest run of each path, the least disturbed by other load.
 * On a shared machine the model's own run-to-run noise (several %) can hide the
 * overhead, so each model line also gives a noise-free upper bound: the `shoal/noop`
 * runner echoing the model's output PNG (upload and download of that size, i.e. more
 * bytes than the real path moves) timed 50 times, as a share of the direct p50.
 *
 *   node --import tsx bench/runner/index.ts [iterations=10]
 */
import { createCpuRunnerServer, findEsrganModel, loadEsrganUpscaler } from '../../src/cpu-runner/index.js'
import { createRunnerClient } from '../../src/inference/runner-client/index.js'
import type { InferenceJob } from '../../src/kernel/job.js'
import sharp from 'sharp'
import { percentile } from '../percentile.js'

const iterations = Number(process.argv[2] ?? 10)

async function makeImage (size: number): Promise<Buffer> {
  const svg = `<svg width="${size}" height="${size}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="#345"/>` +
    `<circle cx="${size / 2}" cy="${size / 2}" r="${size / 3}" fill="#e94"/><rect x="10" y="10" width="${size / 4}" height="${size / 2}" fill="#fff"/></svg>`
  return await sharp(Buffer.from(svg)).png().toBuffer()
}

async function runHttp (client: ReturnType<typeof createRunnerClient>, job: InferenceJob): Promise<Buffer> {
  const res = await client.run(job)
  const parts: Buffer[] = []
  for await (const chunk of res.body) parts.push(Buffer.from(chunk))
  if (res.status !== 200) throw new Error(`runner answered ${res.status}: ${Buffer.concat(parts).toString()}`)
  const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { images: Array<{ url: string }> }
  return Buffer.from(body.images[0].url.slice(body.images[0].url.indexOf(',') + 1), 'base64')
}

const ms = (n: number): string => n.toFixed(1).padStart(7)

/** p50 of the noop runner echoing `png`: the HTTP path's cost for that much data, with no model. */
async function noopEchoP50 (client: ReturnType<typeof createRunnerClient>, png: Buffer): Promise<number> {
  const job: InferenceJob = { pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'bench' }, inputs: [{ field: 'image', filename: 'out.png', contentType: 'image/png', data: png }] }
  for (let i = 0; i < 10; i++) await runHttp(client, job)
  const times: number[] = []
  for (let i = 0; i < 50; i++) {
    const t = performance.now()
    await runHttp(client, job)
    times.push(performance.now() - t)
  }
  return percentile(times, 50)
}

async function benchModel (modelId: string, image: Buffer, noop: ReturnType<typeof createRunnerClient>): Promise<void> {
  const spec = findEsrganModel(modelId)
  if (spec === undefined) throw new Error(`unknown model ${modelId}`)
  const direct = await loadEsrganUpscaler(spec)
  const runner = createCpuRunnerServer({ pipeline: 'upscale', modelId, port: 0 })
  await runner.start()
  const client = createRunnerClient({ url: runner.url })
  const job: InferenceJob = { pipeline: 'upscale', modelId, params: { prompt: 'bench' }, inputs: [{ field: 'image', filename: 'in.png', contentType: 'image/png', data: image }] }

  // warm both paths (kernel compilation, sockets)
  for (let i = 0; i < 2; i++) { await direct.upscale(image); await runHttp(client, job) }
  const directMs: number[] = []
  const httpMs: number[] = []
  let size = ''
  let output: Buffer = Buffer.alloc(0)
  for (let i = 0; i < iterations; i++) {
    // alternate which goes first, so drift (other load on the machine) hits both alike
    const order = i % 2 === 0 ? ['direct', 'http'] : ['http', 'direct']
    for (const path of order) {
      const started = performance.now()
      if (path === 'direct') {
        const out = await direct.upscale(image)
        size = `${out.width}x${out.height}`
        output = out.png
        directMs.push(performance.now() - started)
      } else {
        await runHttp(client, job)
        httpMs.push(performance.now() - started)
      }
    }
  }
  const d50 = percentile(directMs, 50)
  const h50 = percentile(httpMs, 50)
  const dMean = directMs.reduce((a, b) => a + b, 0) / directMs.length
  const hMean = httpMs.reduce((a, b) => a + b, 0) / httpMs.length
  const bound = await noopEchoP50(noop, output)
  const dMin = Math.min(...directMs)
  const hMin = Math.min(...httpMs)
  console.log(`${modelId.padEnd(28)} 128x128 -> ${size.padEnd(8)} direct p50 ${ms(d50)} ms  mean ${ms(dMean)}   runner p50 ${ms(h50)} ms  mean ${ms(hMean)}   ` +
    `overhead p50 ${((h50 / d50 - 1) * 100).toFixed(2)}%  mean ${((hMean / dMean - 1) * 100).toFixed(2)}%  min ${((hMin / dMin - 1) * 100).toFixed(2)}%   ` +
    `HTTP bound ${bound.toFixed(2)} ms = ${(bound / d50 * 100).toFixed(2)}% (${output.byteLength} B PNG echoed)`)
  client.close()
  await runner.stop()
  await direct.close()
}

async function benchNoop (image: Buffer): Promise<void> {
  const runner = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0 })
  await runner.start()
  const client = createRunnerClient({ url: runner.url })
  const job: InferenceJob = { pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'bench' }, inputs: [{ field: 'image', filename: 'in.png', contentType: 'image/png', data: image }] }
  for (let i = 0; i < 200; i++) await runHttp(client, job)
  const times: number[] = []
  const started = performance.now()
  const n = 2000
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await runHttp(client, job)
    times.push(performance.now() - t)
  }
  const elapsed = performance.now() - started
  console.log(`shoal/noop (HTTP path alone, ${image.byteLength} B PNG): p50 ${percentile(times, 50).toFixed(3)} ms  p99 ${percentile(times, 99).toFixed(3)} ms  ` +
    `${Math.round(n / (elapsed / 1000))} sequential jobs/s`)
  client.close()
  await runner.stop()
}

const image = await makeImage(128)
console.log(`bench/runner: ${iterations} interleaved iterations per model, same process, same image`)
const noopRunner = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0 })
await noopRunner.start()
const noopClient = createRunnerClient({ url: noopRunner.url })
for (const modelId of ['upscalerjs/esrgan-slim-x2', 'upscalerjs/esrgan-slim-x4', 'upscalerjs/esrgan-medium-x2', 'upscalerjs/esrgan-medium-x4']) {
  await benchModel(modelId, image, noopClient)
}
noopClient.close()
await noopRunner.stop()
await benchNoop(image)
