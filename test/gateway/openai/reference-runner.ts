import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import sharp from 'sharp'

/**
 * An ai-runner-compatible HTTP runner (the reference's routes, request and response
 * shapes) for pipelines that have no CPU model in this repository: the orchestrator
 * serves it as an external runner (`url` in aiModels.json), so the mesh, selection and
 * payment around it are real. Its answers are computed from the request:
 * - llm: the last user message's words streamed back one token each after "echo:", with
 *   `usage` counting them (as llama.cpp's runner reports it), or one LLMResponse;
 * - text-to-image: `num_images_per_prompt` PNGs of `width` x `height`;
 * - audio-to-text: a transcription naming the uploaded body's size, in two timed chunks.
 */
export interface ReferenceRunner { url: string, requests: () => number, stop: () => Promise<void> }

async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function answer (pipeline: string, modelId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const json = (status: number, value: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value)) }
  const body = await readBody(req)
  if (pipeline === 'llm') {
    const params = JSON.parse(body.toString()) as { messages: Array<{ role: string, content: string }>, stream?: boolean, max_tokens?: number }
    const prompt = params.messages.map(m => m.content).join(' ').split(/\s+/).filter(Boolean)
    const last = [...params.messages].reverse().find(m => m.role === 'user')?.content ?? ''
    const tokens = ['echo:', ...last.split(/\s+/).filter(Boolean)].slice(0, params.max_tokens ?? 256)
    const usage = { prompt_tokens: prompt.length, completion_tokens: tokens.length, total_tokens: prompt.length + tokens.length }
    const base = { id: 'ref-1', model: modelId, created: 1 }
    if (params.stream !== true) {
      json(200, { ...base, usage, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: tokens.join(' ') } }] })
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    tokens.forEach((t, i) => res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: (i === 0 ? '' : ' ') + t }, finish_reason: '' }] })}\n\n`))
    res.end(`data: ${JSON.stringify({ ...base, usage, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`)
    return
  }
  if (pipeline === 'text-to-image') {
    const params = JSON.parse(body.toString()) as { width: number, height: number, num_images_per_prompt?: number, seed?: number }
    const png = await sharp({ create: { width: params.width, height: params.height, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer()
    json(200, { images: Array.from({ length: params.num_images_per_prompt ?? 1 }, (_, i) => ({ url: `data:image/png;base64,${png.toString('base64')}`, seed: i, nsfw: false })) })
    return
  }
  if (pipeline === 'audio-to-text') {
    json(200, { text: `heard ${body.byteLength} bytes`, chunks: [{ timestamp: [0, 0.5], text: 'heard' }, { timestamp: [0.5, 1.25], text: ` ${body.byteLength} bytes` }] })
    return
  }
  json(404, { detail: { msg: `no pipeline ${pipeline}` } })
}

export async function startReferenceRunner (pipeline: string, modelId: string): Promise<ReferenceRunner> {
  let requests = 0
  const server: Server = createServer((req, res) => {
    const json = (value: unknown): void => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value)) }
    if (req.method === 'GET' && req.url === '/health') { json({ status: 'OK' }); return }
    if (req.method === 'GET' && req.url === '/version') { json({ pipeline, model_id: modelId, version: 'reference-shaped-test-runner' }); return }
    requests++
    answer(pipeline, modelId, req, res).catch((err: Error) => { res.writeHead(500).end(err.message) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests: () => requests,
    stop: async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) }
  }
}

/** A WAV container with `ms` of 16 kHz mono silence (the gateway checks the container, not the sound). */
export function silentWav (ms: number): Buffer {
  const samples = Math.round(16 * ms)
  const data = Buffer.alloc(samples * 2)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0); header.writeUInt32LE(36 + data.length, 4); header.write('WAVE', 8)
  header.write('fmt ', 12); header.writeUInt32LE(16, 16); header.writeUInt16LE(1, 20); header.writeUInt16LE(1, 22)
  header.writeUInt32LE(16000, 24); header.writeUInt32LE(32000, 28); header.writeUInt16LE(2, 32); header.writeUInt16LE(16, 34)
  header.write('data', 36); header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}
