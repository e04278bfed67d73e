import { execFile } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { readdir, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { Registry } from 'prom-client'
import { Vp8Packetizer, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../../src/gateway/http/server.js'
import { createGatewayMetrics } from '../../../../src/gateway/metrics.js'
import { registerLiveWebRtcRoutes, type LiveWebRtc, type LiveWebRtcOptions } from '../../../../src/gateway/live/webrtc/index.js'
import { silentLogger } from '../../../../src/observability/logger.js'
import { createLoopbackMedia, type LoopbackMedia } from './loopback-media.js'

const run = promisify(execFile)

export interface LiveGateway {
  server: GatewayHttpServer
  url: string
  live: LiveWebRtc
  /** where the WebRTC metrics go */
  registry: Registry
  sessions: Map<string, LoopbackMedia>
  /** a new loopback session for `streamId` */
  open: (streamId: string, opts?: Parameters<typeof createLoopbackMedia>[1]) => LoopbackMedia
  stop: () => Promise<void>
}

/** The gateway's real HTTP server (no mesh behind it, `apiKeys` as given) with the WebRTC routes over loopback sessions. */
export async function startLiveGateway (options: Partial<LiveWebRtcOptions> = {}, http: { apiKeys?: string[] } = {}): Promise<LiveGateway> {
  const sessions = new Map<string, LoopbackMedia>()
  const registry = new Registry()
  let live: LiveWebRtc | undefined
  const server = createGatewayHttpServer({
    dispatcher: { dispatch: async () => { throw new Error('no dispatch in these tests') } },
    directory: { list: () => [] },
    options: { host: '127.0.0.1', port: 0, ...http },
    logger: silentLogger(),
    metrics: createGatewayMetrics(new Registry()),
    extraRoutes: [(add, app) => { live = registerLiveWebRtcRoutes(add, app, { lookup: (id) => sessions.get(id), options, logger: silentLogger(), register: registry }) }]
  })
  if (live === undefined) throw new Error('the WebRTC routes were not registered')
  await server.start()
  const url = server.address?.url
  if (url === undefined) throw new Error('no address')
  return {
    server,
    url,
    live: live as LiveWebRtc,
    registry,
    sessions,
    open (streamId, opts) {
      const media = createLoopbackMedia(streamId, opts)
      sessions.set(streamId, media)
      return media
    },
    stop: async () => { await server.stop() }
  }
}

/** pids of this process's children running `name` (from /proc: what really runs, not what the code believes) */
export async function childProcesses (name: string): Promise<number[]> {
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid ...
      const close = stat.lastIndexOf(')')
      const comm = stat.slice(stat.indexOf('(') + 1, close)
      const ppid = Number(stat.slice(close + 2).split(' ')[1])
      if (ppid === process.pid && comm === name) found.push(Number(entry))
    } catch {}
  }
  return found
}

export interface ProbedVideo {
  codec: string
  width: number
  height: number
  frames: number
  hasBFrames: number
  keyframes: number
  /** the first frame is a keyframe (the segment decodes on its own) */
  startsWithKeyframe: boolean
  durationS: number
}

/** ffprobe of one video file: its stream, and every frame decoded (counted, keyframes found) */
export async function probeVideo (bytes: Uint8Array, format?: string): Promise<ProbedVideo> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-probe-'))
  try {
    const path = join(dir, 'video')
    await writeFile(path, bytes)
    const { stdout } = await run('ffprobe', ['-v', 'error', ...(format !== undefined ? ['-f', format] : []), '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,has_b_frames:frame=key_frame,pts_time,pkt_dts_time', '-of', 'json', path], { maxBuffer: 16 << 20 })
    const parsed = JSON.parse(stdout) as { streams: Array<{ codec_name: string, width: number, height: number, has_b_frames: number }>, frames: Array<{ key_frame: number, pts_time?: string, pkt_dts_time?: string }> }
    const stream = parsed.streams[0]
    if (stream === undefined) throw new Error('no video stream')
    const times = parsed.frames.map(f => Number(f.pts_time ?? f.pkt_dts_time ?? NaN)).filter(Number.isFinite)
    return {
      codec: stream.codec_name,
      width: stream.width,
      height: stream.height,
      hasBFrames: stream.has_b_frames,
      frames: parsed.frames.length,
      keyframes: parsed.frames.filter(f => f.key_frame === 1).length,
      startsWithKeyframe: parsed.frames[0]?.key_frame === 1,
      durationS: times.length > 1 ? Math.max(...times) - Math.min(...times) : 0
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** the frames of an IVF file */
export function ivfFrames (file: Buffer): Buffer[] {
  const frames: Buffer[] = []
  for (let at = file.readUInt16LE(6); at + 12 <= file.length;) {
    const size = file.readUInt32LE(at)
    frames.push(file.subarray(at + 12, at + 12 + size))
    at += 12 + size
  }
  return frames
}

export async function gathered (pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return
  await new Promise<void>(resolve => { const s = pc.iceGatheringStateChange.subscribe(st => { if (st === 'complete') { s.unSubscribe(); resolve() } }) })
}

/** a werift client's offer exchanged with the gateway: the answer applied, the resource URL returned */
export async function exchange (pc: RTCPeerConnection, url: string): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer())
  await gathered(pc)
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription?.sdp })
  const body = await response.text()
  expect(response.status, body).to.equal(201)
  expect(response.headers.get('content-type')).to.match(/^application\/sdp/)
  await pc.setRemoteDescription({ type: 'answer', sdp: body })
  return new URL(response.headers.get('location') ?? '', url).href
}

/** sockets this process holds open */
export async function socketCount (): Promise<number> {
  let n = 0
  for (const fd of await readdir('/proc/self/fd')) {
    try { if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++ } catch {}
  }
  return n
}

/** a generated VP8 video (testsrc2: a distinct picture per frame) as IVF at `path`, and its frames */
export async function vp8Source (path: string, opts: { width: number, height: number, fps: number, frames: number }): Promise<Buffer[]> {
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${opts.width}x${opts.height}:rate=${opts.fps}`, '-frames:v', String(opts.frames),
    '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '1M', '-g', String(opts.fps), '-f', 'ivf', path])
  return ivfFrames(await readFile(path))
}

/** sends VP8 frames over `transceiver` in real time, `fps` a second; stops early when `until` says so */
export async function sendVp8 (transceiver: RTCRtpTransceiver, frames: Buffer[], fps: number, until: () => boolean = () => false): Promise<void> {
  const packetizer = new Vp8Packetizer()
  const start = performance.now()
  for (const [n, frame] of frames.entries()) {
    if (until()) return
    const due = start + n * 1000 / fps
    if (due > performance.now()) await new Promise(resolve => setTimeout(resolve, due - performance.now()))
    for (const packet of packetizer.packetize(frame, Math.round(n * 90_000 / fps))) await transceiver.sender.sendRtp(packet)
  }
}
